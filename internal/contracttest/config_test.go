package contracttest

import (
	"flag"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestConfigFlagBeatsEnvironment(t *testing.T) {
	var c Config
	fs := flag.NewFlagSet("suite", flag.ContinueOnError)
	RegisterFlags(fs, &c)
	if err := fs.Parse([]string{"-base-url", "http://flag.example"}); err != nil {
		t.Fatal(err)
	}
	c.ApplyEnv(func(k string) string {
		return map[string]string{
			"EQUALTURE_CONTRACT_BASE_URL":  "http://env.example",
			"EQUALTURE_CONTRACT_CLIENT_ID": "env-client",
		}[k]
	})
	if got, want := c.BaseURL, "http://flag.example"; got != want {
		t.Errorf("BaseURL = %q, want %q", got, want)
	}
	if got, want := c.ClientID, "env-client"; got != want {
		t.Errorf("ClientID = %q, want %q", got, want)
	}
	if got := c.Env(); !slices.Contains(got, "EQUALTURE_CONTRACT_BASE_URL=http://flag.example") {
		t.Errorf("Env() = %q", got)
	}
}

func TestConfigComplete(t *testing.T) {
	tests := map[string]struct {
		cfg   Config
		local bool
		want  string // in the error; "" for none
	}{
		"the in-process mock needs nothing": {local: true},
		"a base URL without credentials": {
			cfg:  Config{BaseURL: "https://app.equalture.com"},
			want: "EQUALTURE_CONTRACT_CLIENT_ID and EQUALTURE_CONTRACT_CLIENT_SECRET",
		},
		"a base URL that is no URL": {
			cfg:  Config{BaseURL: "app.equalture.com", ClientID: "a", ClientSecret: "b"},
			want: "EQUALTURE_CONTRACT_BASE_URL",
		},
		"half a second client": {
			cfg:  Config{BaseURL: "http://x", ClientID: "a", ClientSecret: "b", Client2ID: "c"},
			want: "EQUALTURE_CONTRACT_CLIENT2_SECRET",
		},
		"a receiver address without a port": {
			cfg:  Config{BaseURL: "http://x", ClientID: "a", ClientSecret: "b", ReceiverAddr: "localhost"},
			want: "EQUALTURE_CONTRACT_RECEIVER_ADDR",
		},
		"a complete target": {
			cfg: Config{BaseURL: "https://app.equalture.com/", ClientID: "a", ClientSecret: "b"},
		},
		"a completed reference that is no UUID": {
			cfg:  Config{BaseURL: "http://x", ClientID: "a", ClientSecret: "b", CompletedRef: "d2c37d4d-b8d4-46a9-b230-42a246ad6153, 1234-1234-4567-1111"},
			want: `"1234-1234-4567-1111"`,
		},
		"the hireable one among the completed ones": {
			cfg: Config{BaseURL: "http://x", ClientID: "a", ClientSecret: "b", CompletedRef: "d2c37d4d-b8d4-46a9-b230-42a246ad6153",
				HireableRef: "d2c37d4d-b8d4-46a9-b230-42a246ad6153"},
			want: "EQUALTURE_CONTRACT_HIREABLE_REF must not be one of",
		},
		"a request timeout that is no duration": {
			cfg:  Config{BaseURL: "http://x", ClientID: "a", ClientSecret: "b", RequestTimeout: "10"},
			want: "EQUALTURE_CONTRACT_REQUEST_TIMEOUT",
		},
		"a negative callback timeout": {
			cfg:  Config{BaseURL: "http://x", ClientID: "a", ClientSecret: "b", CallbackTimeout: "-1m"},
			want: "EQUALTURE_CONTRACT_CALLBACK_TIMEOUT",
		},
		"a negative count that is no number": {
			cfg:  Config{BaseURL: "http://x", ClientID: "a", ClientSecret: "b", NegativeCount: "many"},
			want: "EQUALTURE_CONTRACT_NEGATIVE_COUNT",
		},
		"guesses neither warned of nor failed": {
			cfg:  Config{BaseURL: "http://x", ClientID: "a", ClientSecret: "b", Inferred: "ignore"},
			want: "EQUALTURE_CONTRACT_INFERRED",
		},
		"a token wait that is no duration": {
			cfg:  Config{BaseURL: "http://x", ClientID: "a", ClientSecret: "b", TokenWait: "long"},
			want: "EQUALTURE_CONTRACT_TOKEN_WAIT",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c := tc.cfg
			err := c.Complete(tc.local)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Complete: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("Complete: %v, want an error naming %s", err, tc.want)
			}
		})
	}
	c := Config{BaseURL: "https://app.equalture.com/"}
	if err := c.Complete(true); err != nil || c.ClientID != "demo-client" || c.Client2ID != "other-client" || c.ReceiverAddr != "127.0.0.1:0" {
		t.Fatalf("defaults: %+v, %v", c, err)
	}
}

func TestConfigParsesTypedSettings(t *testing.T) {
	c := Config{BaseURL: "http://x", ClientID: "a", ClientSecret: "b"}
	if err := c.Complete(false); err != nil {
		t.Fatal(err)
	}
	want := Parsed{RequestTimeout: 10 * time.Second, CallbackTimeout: 15 * time.Second, NegativeCount: 20, NegativeSeed: 1}
	if !reflect.DeepEqual(c.Parsed, want) {
		t.Fatalf("defaults %+v, want %+v", c.Parsed, want)
	}
	c = Config{BaseURL: "http://x", ClientID: "a", ClientSecret: "b", RequestTimeout: "2s", CallbackTimeout: "45m",
		NegativeCount: "5", NegativeSeed: "42", CompletedRef: " d2c37d4d-b8d4-46a9-b230-42a246ad6153 ,,0b5c1f1e-7d0a-4a43-9a55-3c2f3f6c8a01",
		Inferred: "fail", TokenWait: "16m"}
	if err := c.Complete(false); err != nil {
		t.Fatal(err)
	}
	want = Parsed{RequestTimeout: 2 * time.Second, CallbackTimeout: 45 * time.Minute, NegativeCount: 5, NegativeSeed: 42,
		CompletedRefs:  []string{"d2c37d4d-b8d4-46a9-b230-42a246ad6153", "0b5c1f1e-7d0a-4a43-9a55-3c2f3f6c8a01"},
		FailOnInferred: true, TokenWait: 16 * time.Minute}
	if !reflect.DeepEqual(c.Parsed, want) {
		t.Fatalf("parsed %+v, want %+v", c.Parsed, want)
	}
}

// TestConfigInferredDefault: a guess of the contract fails the spec against the mock (it is the
// contract's guesses) and warns against the real service (news about the contract).
func TestConfigInferredDefault(t *testing.T) {
	for _, tc := range []struct {
		cfg   Config
		local bool
		fail  bool
	}{
		{Config{}, true, true},
		{Config{BaseURL: "http://mock", ControlURL: "http://mock/_mock", ClientID: "a", ClientSecret: "b"}, false, true},
		{Config{BaseURL: "https://app.equalture.com", ClientID: "a", ClientSecret: "b"}, false, false},
		{Config{BaseURL: "https://app.equalture.com", ClientID: "a", ClientSecret: "b", Inferred: "fail"}, false, true},
		{Config{Inferred: "warn"}, true, false},
	} {
		c := tc.cfg
		if err := c.Complete(tc.local); err != nil || c.Parsed.FailOnInferred != tc.fail {
			t.Errorf("%+v (local %v): fail on inferred %v, want %v (%v)", tc.cfg, tc.local, c.Parsed.FailOnInferred, tc.fail, err)
		}
	}
}

func TestConfigForProcess(t *testing.T) {
	tests := map[string]struct {
		addr, url         string
		n, total          int
		wantAddr, wantURL string
		wantErr           bool
	}{
		"serial keeps its port":         {addr: "0.0.0.0:9000", url: "http://ci:9000", n: 1, total: 1, wantAddr: "0.0.0.0:9000", wantURL: "http://ci:9000"},
		"a free port per process":       {addr: "127.0.0.1:0", n: 3, total: 4, wantAddr: "127.0.0.1:0"},
		"fixed port, process 3":         {addr: "0.0.0.0:9000", url: "http://ci:9000/hooks", n: 3, total: 4, wantAddr: "0.0.0.0:9002", wantURL: "http://ci:9002/hooks"},
		"fixed port, no URL":            {addr: ":9000", n: 2, total: 2, wantAddr: ":9001"},
		"a shared URL cannot follow":    {addr: "0.0.0.0:9000", url: "https://hooks.example", n: 2, total: 2, wantErr: true},
		"a free port with a shared URL": {addr: "127.0.0.1:0", url: "https://hooks.example", n: 2, total: 2, wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c := Config{ReceiverAddr: tc.addr, ReceiverURL: tc.url}
			err := c.ForProcess(tc.n, tc.total)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("ForProcess = %+v, want an error", c)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.ReceiverAddr != tc.wantAddr || c.ReceiverURL != tc.wantURL {
				t.Fatalf("ForProcess(%d, %d) = %s %s, want %s %s", tc.n, tc.total, c.ReceiverAddr, c.ReceiverURL, tc.wantAddr, tc.wantURL)
			}
		})
	}
}
