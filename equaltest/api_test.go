package equaltest_test

import (
	"testing"

	"github.com/equalture/equalture-mock/internal/apicheck"
)

func TestGoDocNamesNoInternalPackage(t *testing.T) { apicheck.NoInternalNames(t, ".") }
