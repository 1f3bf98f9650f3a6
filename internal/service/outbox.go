package service

import (
	"fmt"
	"time"

	"github.com/equalture/equalture-mock/internal/domain"
	"github.com/equalture/equalture-mock/internal/store"
)

// Email is an invitation the mock would have sent. It is not kept: each is rendered, when read,
// from its application (invited by email), the job and the client, so anonymizing the
// application erases it everywhere at once.
type Email struct {
	ClientID    string    `json:"client_id"`
	ReferenceID string    `json:"reference_id"`
	To          string    `json:"to"`
	Subject     string    `json:"subject"`
	Body        string    `json:"body"`
	Link        string    `json:"link"`
	SentAt      time.Time `json:"sent_at"`
}

// OutboxFilter selects emails; empty fields match everything.
type OutboxFilter struct {
	ClientID, ReferenceID string
	To                    string // compared without case
}

// Outbox returns the invitation emails f selects, oldest first.
func (s *Service) Outbox(f OutboxFilter) []Email {
	return s.invitationEmails(s.store.List(store.Filter{ClientID: f.ClientID, ReferenceID: f.ReferenceID, Email: f.To, InvitationType: domain.InviteEmail}))
}

// invitationEmails are the emails that invited apps.
func (s *Service) invitationEmails(apps []domain.Application) []Email {
	out := make([]Email, len(apps))
	for i, a := range apps {
		out[i] = s.invitationEmail(a)
	}
	return out
}

// invitationEmail is the email that invited a (its address, subject and body erased once a is
// anonymized).
func (s *Service) invitationEmail(a domain.Application) Email {
	link := s.AssessmentURL(a)
	m := Email{ClientID: a.ClientID, ReferenceID: a.ReferenceID, Link: link, SentAt: a.CreatedAt}
	if a.Status == domain.Anonymized {
		m.Subject, m.Body = "(anonymized)", "(anonymized)"
		return m
	}
	client, _ := s.deps.Fixtures.Client(a.ClientID)
	job := s.Job(a)
	m.To = a.Applicant.Email
	m.Subject = fmt.Sprintf("Your assessment for %s", job.Name)
	m.Body = fmt.Sprintf("Dear %s,\n\nYou are invited to take the assessment for %s. "+
		"Open this link within %g days to start:\n\n%s\n\nGood luck!\n%s",
		a.Applicant.FirstName, job.Name, s.cfg.InvitationTTL.Hours()/24, link, client.Name)
	return m
}
