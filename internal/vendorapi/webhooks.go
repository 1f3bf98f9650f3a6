package vendorapi

import (
	"net/http"
	"time"

	"github.com/equalture/equalture-mock/internal/dispatch"
	"github.com/equalture/equalture-mock/internal/domain"
	"github.com/equalture/equalture-mock/internal/redact"
	"github.com/equalture/equalture-mock/internal/service"
)

// webhookView is a webhook as the client sees it: never its secret, except the one generated for
// it, once.
type webhookView struct {
	Label      string    `json:"label"`
	URL        string    `json:"url"`
	Secret     string    `json:"secret,omitempty"`
	SecretHint string    `json:"secret_hint"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

func viewWebhook(w domain.Webhook) webhookView {
	return webhookView{Label: w.Label, URL: w.URL, SecretHint: redact.Hint(w.Secret), CreatedAt: w.CreatedAt.UTC(), UpdatedAt: w.UpdatedAt.UTC()}
}

type registerWebhookRequest struct {
	URL    string `json:"url"`
	Secret string `json:"secret"`
}

func (a *API) handleRegisterWebhook(w http.ResponseWriter, c *dispatch.Call) error {
	var req registerWebhookRequest
	if err := decode(c.Body, &req); err != nil {
		return err
	}
	hook, err := a.deps.Service.RegisterWebhook(c.Principal, service.WebhookRegistration{Label: c.Params["label"], URL: req.URL, Secret: req.Secret})
	if err != nil {
		return err
	}
	v, status := viewWebhook(hook.Webhook), http.StatusOK
	if hook.Created {
		v.Secret, status = hook.NewSecret, http.StatusCreated
	}
	writeJSON(w, status, v)
	return nil
}

func (a *API) handleListWebhooks(w http.ResponseWriter, c *dispatch.Call) error {
	hooks := a.deps.Service.Webhooks(c.Principal)
	out := make([]webhookView, len(hooks))
	for i, h := range hooks {
		out[i] = viewWebhook(h)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// handleDeleteWebhooks deletes the webhook the path names, or all of the client's.
func (a *API) handleDeleteWebhooks(w http.ResponseWriter, c *dispatch.Call) error {
	gone, err := a.deps.Service.DeleteWebhooks(c.Principal, c.Params["label"])
	if err != nil {
		return err
	}
	labels := make([]string, len(gone))
	for i, h := range gone {
		labels[i] = h.Label
	}
	writeJSON(w, http.StatusOK, map[string][]string{"deleted": labels})
	return nil
}
