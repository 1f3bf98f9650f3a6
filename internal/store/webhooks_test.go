package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/equalture/equalture-mock/internal/apierr"
	"github.com/equalture/equalture-mock/internal/clock"
	"github.com/equalture/equalture-mock/internal/store"
)

func hook(client, label, url, secret string) store.Webhook {
	return store.Webhook{ClientID: client, Label: label, URL: url, Secret: secret}
}

func TestPutWebhook(t *testing.T) {
	s, c := newStore()
	w, created, err := s.PutWebhook(hook("c", "ats", "https://a.example/hook", ""), "whsec_generated")
	if err != nil || !created || w.Secret != "whsec_generated" || !w.CreatedAt.Equal(t0) || !w.UpdatedAt.Equal(t0) {
		t.Fatalf("new webhook = %+v, %v, %v", w, created, err)
	}
	c.Advance(time.Minute)
	w, created, err = s.PutWebhook(hook("c", "ats", "https://b.example/hook", ""), "whsec_unused")
	if err != nil || created || w.URL != "https://b.example/hook" || w.Secret != "whsec_generated" || !w.CreatedAt.Equal(t0) || !w.UpdatedAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("an update without a secret keeps it: %+v, %v, %v", w, created, err)
	}
	if w, _, _ = s.PutWebhook(hook("c", "ats", "https://b.example/hook", "whsec_mine"), "whsec_unused"); w.Secret != "whsec_mine" {
		t.Fatalf("an update with a secret replaces it: %+v", w)
	}
	if got, err := s.Webhook("c", "ats"); err != nil || got != w {
		t.Fatalf("Webhook = %+v, %v; want %+v", got, err, w)
	}
	if _, err := s.Webhook("other", "ats"); !apierr.Is(err, apierr.NotFound) {
		t.Fatalf("another client's label = %v, want a 404", err)
	}
}

func TestWebhooksPerClient(t *testing.T) {
	s, _ := newStore()
	for _, h := range []store.Webhook{hook("b", "z", "u", "s"), hook("a", "y", "u", "s"), hook("b", "x", "u", "s")} {
		if _, _, err := s.PutWebhook(h, ""); err != nil {
			t.Fatal(err)
		}
	}
	label := func(ws []store.Webhook) string {
		out := ""
		for _, w := range ws {
			out += w.ClientID + "/" + w.Label + " "
		}
		return out
	}
	tests := map[string]struct {
		client string
		want   string
	}{
		"every client, by client then label": {"", "a/y b/x b/z "},
		"one client":                         {"b", "b/x b/z "},
		"a client without any":               {"nobody", ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := label(s.Webhooks(tc.client)); got != tc.want {
				t.Fatalf("Webhooks(%q) = %q, want %q", tc.client, got, tc.want)
			}
		})
	}
}

func TestWebhookLimit(t *testing.T) {
	s, _ := newStore()
	for i := range store.MaxWebhooks {
		if _, _, err := s.PutWebhook(hook("c", fmt.Sprint(i), "u", "s"), ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.PutWebhook(hook("c", "one-more", "u", "s"), ""); !apierr.Is(err, apierr.Conflict) {
		t.Fatalf("webhook %d = %v, want a 409", store.MaxWebhooks+1, err)
	}
	if _, _, err := s.PutWebhook(hook("c", "0", "v", ""), ""); err != nil {
		t.Fatalf("updating one at the limit: %v", err)
	}
	if _, _, err := s.PutWebhook(hook("d", "0", "u", "s"), ""); err != nil {
		t.Fatalf("another client at the limit of the first: %v", err)
	}
}

func TestDeleteWebhooks(t *testing.T) {
	tests := map[string]struct {
		client, label string
		gone          int
		notFound      bool
		left          int // of client c
	}{
		"one":                              {"c", "a", 1, false, 1},
		"all of a client":                  {"c", "", 2, false, 0},
		"an unknown label":                 {"c", "nope", 0, true, 2},
		"another client's":                 {"d", "a", 0, true, 2},
		"all of a client that has none":    {"d", "", 0, false, 2},
		"the same label of another client": {"e", "a", 1, false, 2},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s, _ := newStore()
			for _, h := range []store.Webhook{hook("c", "a", "u", "s"), hook("c", "b", "u", "s"), hook("e", "a", "u", "s")} {
				if _, _, err := s.PutWebhook(h, ""); err != nil {
					t.Fatal(err)
				}
			}
			gone, err := s.DeleteWebhooks(tc.client, tc.label)
			if tc.notFound != apierr.Is(err, apierr.NotFound) || (!tc.notFound && err != nil) {
				t.Fatalf("DeleteWebhooks = %v", err)
			}
			if len(gone) != tc.gone {
				t.Fatalf("deleted %+v, want %d", gone, tc.gone)
			}
			for _, w := range gone {
				if w.ClientID != tc.client {
					t.Fatalf("deleted another client's webhook: %+v", w)
				}
			}
			if left := len(s.Webhooks("c")); left != tc.left {
				t.Fatalf("c has %d webhooks left, want %d", left, tc.left)
			}
		})
	}
}

func TestWebhooksWriteThroughAndReset(t *testing.T) {
	rec := &recorder{}
	s := store.Open(clock.NewFrozen(t0), rec, store.Snapshot{Rev: 3, Webhooks: []store.Webhook{hook("c", "kept", "u", "s")}})
	if got := s.Webhooks("c"); len(got) != 1 || got[0].Label != "kept" {
		t.Fatalf("restored webhooks = %+v", got)
	}
	if _, _, err := s.PutWebhook(hook("c", "new", "u", ""), "whsec_x"); err != nil {
		t.Fatal(err)
	}
	if c := rec.last(); c.Rev != 4 || c.Webhook == nil || c.Webhook.Label != "new" || c.Webhook.Secret != "whsec_x" {
		t.Fatalf("put wrote %+v", c)
	}
	if _, err := s.DeleteWebhooks("c", ""); err != nil {
		t.Fatal(err)
	}
	if c := rec.last(); c.Rev != 5 || len(c.Unhooked) != 2 || c.Unhooked[0].Label != "kept" || c.Unhooked[1].Label != "new" {
		t.Fatalf("delete wrote %+v", c)
	}
	if _, err := s.DeleteWebhooks("c", ""); err != nil || len(rec.changes) != 2 {
		t.Fatalf("deleting none wrote %d changes (%v)", len(rec.changes), err)
	}
	if _, _, err := s.PutWebhook(hook("c", "again", "u", "s"), ""); err != nil {
		t.Fatal(err)
	}
	if err := s.Reset(); err != nil {
		t.Fatal(err)
	}
	if got := s.Webhooks(""); len(got) != 0 {
		t.Fatalf("webhooks after a reset: %+v", got)
	}
}

func TestEventsSayWhereTheyCameFrom(t *testing.T) {
	s, _ := newStore()
	var got []string
	s.Subscribe(func(e store.Event) { got = append(got, fmt.Sprintf("%s from %s", e.Type, e.From)) })
	create(s, "r1", "c")
	s.Complete("r1", nil)
	create(s, "r2", "c")
	s.Start("r2")
	s.Complete("r2", nil)
	want := "[application.created from  application.completed from invited application.created from  application.started from invited application.completed from started]"
	if fmt.Sprint(got) != want {
		t.Fatalf("events = %v, want %v", got, want)
	}
}
