package testenv

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// Contrast is the WCAG 2 contrast ratio of two colours, each written #rrggbb (a stylesheet) or
// rgb(r, g, b) (a browser's computed style); the test fails on another form.
func Contrast(t testing.TB, a, b string) float64 {
	t.Helper()
	la, lb := luminance(t, a), luminance(t, b)
	return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)
}

// luminance is a colour's WCAG 2 relative luminance.
func luminance(t testing.TB, colour string) float64 {
	t.Helper()
	var r, g, b float64
	var err error
	if strings.HasPrefix(colour, "#") {
		var r8, g8, b8 uint8
		if _, err = fmt.Sscanf(colour, "#%02x%02x%02x", &r8, &g8, &b8); err == nil && len(colour) != 7 {
			err = fmt.Errorf("not #rrggbb")
		}
		r, g, b = float64(r8), float64(g8), float64(b8)
	} else {
		_, err = fmt.Sscanf(colour, "rgb(%g, %g, %g)", &r, &g, &b)
	}
	if err != nil {
		t.Fatalf("colour %q is neither #rrggbb nor rgb(r, g, b): %v", colour, err)
	}
	lin := func(v float64) float64 {
		v /= 255
		if v <= 0.04045 {
			return v / 12.92
		}
		return math.Pow((v+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
}
