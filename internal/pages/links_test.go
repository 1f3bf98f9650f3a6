package pages_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/equalture/equalture-mock/internal/service"
	"github.com/equalture/equalture-mock/internal/testenv"
)

func requestURI(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return u.RequestURI()
}

func TestAssessmentLink(t *testing.T) {
	h := testenv.New(t)
	tok := h.Token(testenv.DemoID, testenv.DemoSecret)
	status := func(ref string) any { // a fresh token: the clock moves by days here
		fresh := h.Token(testenv.DemoID, testenv.DemoSecret)
		return h.Do(http.MethodGet, "/connect_ats/applications/"+ref+"/status", "", testenv.Bearer(fresh)).JSON(t)["status"]
	}

	ref, v := h.Create(tok, testenv.EngineerJob, "one_time_link")
	page := requestURI(t, v["assessment_url"].(string))
	r := h.Do(http.MethodGet, page, "")
	testenv.WantStatus(t, r, 200)
	if !strings.Contains(string(r.Body), "Rembrandt") || status(ref) != "started" {
		t.Fatalf("opening the link: status %v, page %s", status(ref), r.Body)
	}
	testenv.WantStatus(t, h.Do(http.MethodGet, page, ""), 200) // opening it again is fine
	r = h.Do(http.MethodPost, page, "")
	testenv.WantStatus(t, r, 200)
	if status(ref) != "completed" || strings.Contains(string(r.Body), "<button") {
		t.Fatalf("completing from the page: status %v, page %s", status(ref), r.Body)
	}
	testenv.WantStatus(t, h.Do(http.MethodPost, page, ""), http.StatusConflict) // only once

	ref2, _ := h.Create(tok, testenv.EngineerJob, "")
	var link string
	for _, m := range h.App.Service.Outbox(service.OutboxFilter{ClientID: testenv.DemoID}) {
		if m.ReferenceID == ref2 {
			link = m.Link
		}
	}
	h.Clock.Advance(7*24*time.Hour - time.Second)
	if status(ref2) != "invited" {
		t.Fatalf("a second before a week: %v", status(ref2))
	}
	h.Clock.Advance(time.Second)
	if status(ref2) != "expired" {
		t.Fatalf("after a week: %v", status(ref2))
	}
	testenv.WantStatus(t, h.Do(http.MethodGet, requestURI(t, link), ""), http.StatusGone)

	forged := strings.Replace(page, "/token/SFMyNTY.", "/token/SFMyNTY.x", 1)
	testenv.WantStatus(t, h.Do(http.MethodGet, forged, ""), http.StatusNotFound)
}

func TestPublicResultsPage(t *testing.T) {
	h := testenv.New(t)
	tok := h.Token(testenv.DemoID, testenv.DemoSecret)
	ref, _ := h.Create(tok, testenv.EngineerJob, "")
	h.Complete(ref)
	link := h.Do(http.MethodGet, "/connect_ats/applications/"+ref+"/public_link?locale=nl", "", testenv.Bearer(tok)).JSON(t)["url"].(string)
	page := requestURI(t, link)

	r := h.Do(http.MethodGet, page, "")
	testenv.WantStatus(t, r, 200)
	if !strings.Contains(string(r.Body), "Probleemoplossend vermogen") {
		t.Fatalf("the nl page is not in Dutch: %s", r.Body)
	}
	other, _ := h.Create(tok, testenv.EngineerJob, "")
	testenv.WantStatus(t, h.Do(http.MethodGet, strings.Replace(page, ref, other, 1), ""), http.StatusNotFound)

	h.Do(http.MethodDelete, "/connect_ats/applications/"+ref+"/anonymize_application", "", testenv.Bearer(tok))
	r = h.Do(http.MethodGet, page, "")
	testenv.WantStatus(t, r, http.StatusGone)
	if strings.Contains(string(r.Body), "Probleemoplossend") {
		t.Fatalf("an anonymized application's page still shows scores: %s", r.Body)
	}
}
