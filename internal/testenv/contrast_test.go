package testenv

import (
	"math"
	"testing"
)

func TestContrastReadsBothForms(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want float64
	}{
		{"#000000", "#ffffff", 21},
		{"rgb(0, 0, 0)", "rgb(255, 255, 255)", 21},
		{"#767676", "rgb(255, 255, 255)", 4.54},
		{"#ffffff", "#ffffff", 1},
	} {
		if got := Contrast(t, tc.a, tc.b); math.Abs(got-tc.want) > 0.01 {
			t.Errorf("Contrast(%s, %s) = %.2f, want %.2f", tc.a, tc.b, got, tc.want)
		}
	}
}
