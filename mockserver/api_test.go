package mockserver_test

import (
	"testing"

	"github.com/equalture/equalture-mock/internal/testenv"
)

func TestGoDocNamesNoInternalPackage(t *testing.T) { testenv.NoInternalNames(t, ".") }
