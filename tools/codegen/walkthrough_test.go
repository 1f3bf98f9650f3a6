package codegen_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/equalture/equalture-mock/equaltest"
	"github.com/equalture/equalture-mock/tools/codegen/eqclient"
)

// TestGeneratedGoClientWalkThrough drives the README's walk-through against the mock with the Go
// client oapi-codegen generates from openapi.yaml with its default settings: a token, the jobs,
// an invitation by email (invitation_type left out) and one by one-time link, the completion and
// its results callback, results, a public link, a hire with a boolean add_to_team, an
// anonymization, the statuses on the way, and a 422 naming every wrong field.
func TestGeneratedGoClientWalkThrough(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	callbacks := make(chan eqclient.ReceiveApplicationResultsJSONRequestBody, 4)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var results eqclient.ApplicationResults
		if err := json.NewDecoder(r.Body).Decode(&results); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		callbacks <- results
	}))
	t.Cleanup(receiver.Close)
	mock := equaltest.Start(t)

	// The token, with HTTP Basic.
	basic := func(_ context.Context, r *http.Request) error {
		r.SetBasicAuth(mock.ClientID, mock.ClientSecret)
		return nil
	}
	anon, err := eqclient.NewClientWithResponses(mock.URL)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := anon.CreateAccessTokenWithResponse(ctx, basic)
	if err != nil {
		t.Fatal(err)
	}
	if tok.JSON200 == nil || !strings.HasPrefix(tok.JSON200.AccessToken, "SFMyNTY.") {
		t.Fatalf("token: %d %s", tok.StatusCode(), tok.Body)
	}
	bearer := func(_ context.Context, r *http.Request) error {
		r.Header.Set("Authorization", "Bearer "+tok.JSON200.AccessToken)
		return nil
	}
	api, err := eqclient.NewClientWithResponses(mock.URL, eqclient.WithRequestEditorFn(bearer))
	if err != nil {
		t.Fatal(err)
	}

	jobs, err := api.ListJobsWithResponse(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if jobs.JSON200 == nil || len(*jobs.JSON200) != len(mock.JobIDs) {
		t.Fatalf("jobs: %d %s, want %d jobs", jobs.StatusCode(), jobs.Body, len(mock.JobIDs))
	}
	job := (*jobs.JSON200)[0]

	applicant := eqclient.ApplicantDetails{FirstName: "Rembrandt", LastName: "Van Rijn", Email: "rembrandt@example.com"}
	byEmail, err := api.CreateApplicationWithResponse(ctx, eqclient.Invitation{
		JobId: job.Id, CallbackUrl: receiver.URL + "/applications/1", ApplicantDetails: applicant,
	})
	if err != nil {
		t.Fatal(err)
	}
	if byEmail.JSON201 == nil || byEmail.JSON201.AssessmentUrl != nil {
		t.Fatalf("invitation by email: %d %s", byEmail.StatusCode(), byEmail.Body)
	}
	if mails := mock.Outbox("rembrandt@example.com"); len(mails) != 1 {
		t.Fatalf("outbox after an invitation by email: %v", mails)
	}
	oneTime := eqclient.InvitationTypeOneTimeLink
	byLink, err := api.CreateApplicationWithResponse(ctx, eqclient.Invitation{
		JobId: job.Id, CallbackUrl: receiver.URL + "/applications/2", ApplicantDetails: applicant, InvitationType: &oneTime,
	})
	if err != nil {
		t.Fatal(err)
	}
	if byLink.JSON201 == nil || byLink.JSON201.AssessmentUrl == nil {
		t.Fatalf("one-time link: %d %s", byLink.StatusCode(), byLink.Body)
	}
	ref := byEmail.JSON201.ReferenceId

	wantStatus := func(ref openapi_types.UUID, want eqclient.ApplicationStatusStatus) {
		t.Helper()
		st, err := api.GetStatusWithResponse(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		if st.JSON200 == nil || st.JSON200.Status != want {
			t.Fatalf("status of %s: %d %s, want %s", ref, st.StatusCode(), st.Body, want)
		}
	}
	wantStatus(ref, eqclient.StatusInvited)

	// The applicant completes the assessment: the results are PUT to the callback_url.
	mock.Complete(ref.String())
	mock.WaitForCallback(ref.String())
	callback := <-callbacks
	wantStatus(ref, eqclient.StatusCompleted)

	en := "en"
	results, err := api.GetResultsWithResponse(ctx, ref, &eqclient.GetResultsParams{Locale: &en})
	if err != nil {
		t.Fatal(err)
	}
	if results.JSON200 == nil || len(results.JSON200.DetailedScores) == 0 {
		t.Fatalf("results: %d %s", results.StatusCode(), results.Body)
	}
	if !reflect.DeepEqual(results.JSON200.Scores, callback.Scores) || results.JSON200.Fit != callback.Fit {
		t.Fatalf("results %+v differ from the callback's %+v", results.JSON200, callback)
	}
	switch results.JSON200.Fit {
	case eqclient.FitLow, eqclient.FitMedium, eqclient.FitHigh:
	default:
		t.Fatalf("fit %q is none of the contract's", results.JSON200.Fit)
	}

	link, err := api.GetPublicLinkWithResponse(ctx, ref, &eqclient.GetPublicLinkParams{Locale: &en})
	if err != nil {
		t.Fatal(err)
	}
	if link.JSON200 == nil || link.JSON200.Ttl != "120" || link.JSON200.TtlUnits != eqclient.TtlUnitsMinutes {
		t.Fatalf("public link: %d %s", link.StatusCode(), link.Body)
	}

	hired, err := api.HireApplicantWithResponse(ctx, ref, eqclient.Hiring{
		AddToTeam: true, StartDate: &openapi_types.Date{Time: time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if hired.JSON200 == nil || hired.JSON200.ReferenceId != ref {
		t.Fatalf("hire: %d %s", hired.StatusCode(), hired.Body)
	}
	wantStatus(ref, eqclient.StatusHired)
	again, err := api.HireApplicantWithResponse(ctx, ref, eqclient.Hiring{AddToTeam: false})
	if err != nil {
		t.Fatal(err)
	}
	if again.JSON409 == nil || again.JSON409.Errors.Detail == "" {
		t.Fatalf("a second hire: %d %s, want a 409 with a detail", again.StatusCode(), again.Body)
	}

	gone, err := api.AnonymizeApplicationWithResponse(ctx, byLink.JSON201.ReferenceId)
	if err != nil {
		t.Fatal(err)
	}
	if gone.JSON200 == nil || gone.JSON200.ReferenceId != byLink.JSON201.ReferenceId {
		t.Fatalf("anonymize: %d %s", gone.StatusCode(), gone.Body)
	}
	wantStatus(byLink.JSON201.ReferenceId, eqclient.StatusAnonymized)

	// Several fields wrong, one of them a job the client does not have: one 422 names them all.
	sms := eqclient.InvitationType("sms")
	invalid, err := api.CreateApplicationWithResponse(ctx, eqclient.Invitation{
		JobId:            openapi_types.UUID{0x0b}, // no job of this client
		CallbackUrl:      "ftp://ats.example/cb",
		ApplicantDetails: eqclient.ApplicantDetails{FirstName: "", LastName: "Van Rijn", Email: "rembrandt@example.com"},
		InvitationType:   &sms,
	})
	if err != nil {
		t.Fatal(err)
	}
	if invalid.JSON422 == nil {
		t.Fatalf("invalid invitation: %d %s, want 422", invalid.StatusCode(), invalid.Body)
	}
	want := map[string][]string{
		"job_id":                       {"does not exist"},
		"callback_url":                 {"is invalid: must be an absolute http(s) URL"},
		"applicant_details.first_name": {"can't be blank"},
		"invitation_type":              {"is invalid: must be one of email, one_time_link"},
	}
	if got := invalid.JSON422.Errors; !reflect.DeepEqual(got, want) {
		t.Fatalf("422 errors = %v, want %v", got, want)
	}

	// An unknown application: a general error.
	missing, err := api.GetStatusWithResponse(ctx, openapi_types.UUID{0x0c})
	if err != nil {
		t.Fatal(err)
	}
	if missing.JSON404 == nil || missing.JSON404.Errors.Detail == "" {
		t.Fatalf("unknown application: %d %s, want a 404 with a detail", missing.StatusCode(), missing.Body)
	}
}
