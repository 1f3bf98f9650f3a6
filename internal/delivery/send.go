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
)

// send makes one attempt: PUT the payload with the delivery's headers, within the timeout.
func (d *Dispatcher) send(dl Delivery, attempt int, at time.Time) (int, time.Duration, error) {
	ctx, cancel := context.WithTimeout(d.ctx, d.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, dl.URL, bytes.NewReader(dl.Payload))
	if err != nil {
		return 0, 0, fmt.Errorf("bad callback URL: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", d.deps.UserAgent)
	req.Header.Set(HeaderID, dl.ID)
	req.Header.Set(HeaderAttempt, strconv.Itoa(attempt))
	if client, ok := d.deps.Fixtures.Client(dl.ClientID); ok {
		if client.CallbackToken != "" {
			req.Header.Set("Authorization", "Bearer "+client.CallbackToken)
		}
		if client.WebhookSecret != "" {
			ts := strconv.FormatInt(at.Unix(), 10)
			sig, err := Sign(client.WebhookSecret, dl.ID, ts, dl.Payload)
			if err != nil {
				return 0, 0, err
			}
			req.Header.Set("webhook-id", dl.ID)
			req.Header.Set("webhook-timestamp", ts)
			req.Header.Set("webhook-signature", sig)
		}
	}
	start := time.Now()
	resp, err := d.deps.Client.Do(req)
	if err != nil {
		latency := time.Since(start)
		if errors.Is(err, context.DeadlineExceeded) {
			return 0, latency, fmt.Errorf("timeout after %s", d.cfg.Timeout)
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, latency, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return resp.StatusCode, time.Since(start), nil
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
