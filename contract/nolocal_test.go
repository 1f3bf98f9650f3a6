//go:build nomock

package contract

import . "github.com/onsi/gomega"

// startLocalMock is left out of suites built with -tags nomock (the Docker image's, which always
// has a target): they need EQUALTURE_CONTRACT_BASE_URL.
func startLocalMock() {
	Expect("").NotTo(BeEmpty(), "this contract suite was built without an in-process mock: set EQUALTURE_CONTRACT_BASE_URL (and the client credentials)")
}
