package delivery

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/equalture/equalture-mock/internal/redact"
)

// send makes one attempt: the delivery's method (PUT for results, POST for an event) with its
// payload and headers, within the timeout. Results are signed with the client's webhook_secret
// from the fixtures (webhook-id: the delivery id), when it has one; an event always, with its
// webhook's secret (webhook-id: the event id, Standard Webhooks' idempotency key).
func (s *Sender) send(a attempt, at time.Time) (int, time.Duration, error) {
	dl := a.v
	req, err := http.NewRequestWithContext(s.ctx, dl.Method, dl.URL, bytes.NewReader(a.payload))
	if err != nil {
		return 0, 0, fmt.Errorf("bad callback URL: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", s.deps.UserAgent)
	req.Header.Set(HeaderID, dl.ID)
	req.Header.Set(HeaderAttempt, strconv.Itoa(a.n))
	switch dl.Kind {
	case KindWebhook:
		if err := sign(req.Header, a.secret, dl.EventID, at, a.payload); err != nil {
			return 0, 0, err
		}
	default:
		if client, ok := s.deps.Fixtures.Client(dl.ClientID); ok {
			if client.CallbackToken != "" {
				req.Header.Set("Authorization", "Bearer "+client.CallbackToken)
			}
			if client.WebhookSecret != "" {
				if err := sign(req.Header, client.WebhookSecret, dl.ID, at, a.payload); err != nil {
					return 0, 0, err
				}
			}
		}
	}
	// The timeout bounds the exchange, and the latency measures it: both start here, after the
	// signing.
	start := time.Now()
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.Timeout)
	defer cancel()
	resp, err := s.deps.Client.Do(req.WithContext(ctx))
	if err != nil {
		latency := time.Since(start)
		if errors.Is(err, context.DeadlineExceeded) {
			return 0, latency, fmt.Errorf("%w after %s", ErrTimeout, s.cfg.Timeout)
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		if s.deps.Egress != nil {
			if shown := s.deps.Egress.Shown(err); shown != err { //nolint:errorlint // the same error or another
				s.deps.Logger.Warn("callback attempt failed", "delivery", dl.ID, "url", redact.URL(dl.URL), "err", err)
				err = shown
			}
		}
		return 0, latency, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return resp.StatusCode, time.Since(start), nil
}

// sign sets the Standard Webhooks headers of a message id sent at (on the mock's clock).
func sign(h http.Header, secret, id string, at time.Time, body []byte) error {
	ts := strconv.FormatInt(at.Unix(), 10)
	sig, err := Sign(secret, id, ts, body)
	if err != nil {
		return err
	}
	h.Set("webhook-id", id)
	h.Set("webhook-timestamp", ts)
	h.Set("webhook-signature", sig)
	return nil
}

// Verify checks a delivery's Standard Webhooks headers against secret, as a receiver does: one of
// the space-separated "v1,<signature>" values of webhook-signature must be Sign's for webhook-id,
// webhook-timestamp and the body, compared in constant time. It returns the time webhook-timestamp
// names, for the receiver to judge against its own clock (Standard Webhooks suggests refusing
// more than five minutes off; the mock's timestamps are on the mock's clock).
func Verify(secret string, h http.Header, body []byte) (time.Time, error) {
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return time.Time{}, errors.New("missing webhook-id, webhook-timestamp or webhook-signature")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("webhook-timestamp %q is not a Unix time in seconds", ts)
	}
	want, err := Sign(secret, id, ts, body)
	if err != nil {
		return time.Time{}, err
	}
	for _, s := range strings.Fields(sigs) {
		if hmac.Equal([]byte(s), []byte(want)) {
			return time.Unix(sec, 0), nil
		}
	}
	return time.Time{}, fmt.Errorf("no webhook-signature matches the secret (got %q)", sigs)
}

// Sign returns the Standard Webhooks signature header value for a delivery: "v1," followed by
// the base64 HMAC-SHA256 of "id.timestamp.body", keyed by the secret ("whsec_<base64>").
func Sign(secret, id, timestamp string, body []byte) (string, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return "", fmt.Errorf("webhook secret is not whsec_<base64>: %w", err)
	}
	m := hmac.New(sha256.New, key)
	fmt.Fprintf(m, "%s.%s.", id, timestamp)
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil)), nil
}
