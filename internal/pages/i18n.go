package pages

import (
	"github.com/equalture/equalture-mock/internal/domain"
	"github.com/equalture/equalture-mock/internal/fixtures"
)

// Labels are every word the pages show besides the fixtures' own (job names, trait names, bucket
// descriptions and statements, which the catalogue holds per locale). Labels with verbs are
// printf formats; a test checks every locale has every label with the same verbs.
type Labels struct {
	LangName, Language, MockNote string

	// The assessment.
	AssessmentTitle, Greeting, Invited, MockNotice, Part, Progress, Submit, AnswerAll, AnswerThis string
	Scale                                                                                         [5]string
	ThanksTitle, ThanksText, ThanksNote                                                           string

	// Links that cannot be used, and other errors.
	ExpiredTitle, ExpiredText, UsedTitle, UsedText, AnonymizedTitle, AnonymizedText string
	InvalidTitle, InvalidText, NotFoundTitle, NotFoundText, ErrorTitle, ErrorText   string

	// Results and their chart.
	ResultsTitle, ResultsIntro, Fit, Priority, AcceptedRange, NotAccepted, InRange, OutOfRange string
	ScoreInRange, ScoreOutOfRange, ChartLabel, ValidFor                                        string
	Fits, Priorities                                                                           map[string]string

	// The dashboard.
	DashboardTitle, Candidates, NoCandidates, AllCandidates, Timeline, Results, Applicant string
	Job, Email, Status, InvitedAt, NoResults, NoResultsAnonymized, AnonymizedApplicant    string
	SignIn, SignInIntro, ClientID, ClientSecret, SignInFailed, SignOut, SignedInAs        string
	Statuses                                                                              map[domain.Status]string
}

// labels holds the Labels of each of fixtures.Locales.
var labels = map[string]*Labels{
	"en": {
		LangName: "English", Language: "Language",
		MockNote: "Served by equalture-mock, a mock of the Equalture service for testing integrations.",

		AssessmentTitle: "Assessment",
		Greeting:        "Hello %s,",
		Invited:         "you are invited to take the assessment for %s.",
		MockNotice:      "This is a mock assessment: a few statements about each trait of the job's profile, not Equalture's real games. Your answers decide the scores the recruiter receives.",
		Part:            "Part %d of %d",
		Progress:        "%d of %d answered",
		Submit:          "Submit my answers",
		AnswerAll:       "Please answer every statement: %d still open.",
		AnswerThis:      "Please answer this statement.",
		Scale:           [5]string{"Strongly disagree", "Disagree", "Neutral", "Agree", "Strongly agree"},
		ThanksTitle:     "Thank you, %s!",
		ThanksText:      "Your answers for %s have been sent. You can close this page.",
		ThanksNote:      "The mock completed the application and sent its results to the recruiter's system.",

		ExpiredTitle:    "This link has expired",
		ExpiredText:     "Links are valid for a limited time. Ask the recruiter for a new one.",
		UsedTitle:       "This assessment has been completed",
		UsedText:        "The link has been used: an assessment can be taken once.",
		AnonymizedTitle: "This application is no longer available",
		AnonymizedText:  "The applicant's data has been removed.",
		InvalidTitle:    "This link is not valid",
		InvalidText:     "Check that you copied the whole link.",
		NotFoundTitle:   "Page not found",
		NotFoundText:    "There is nothing at this address.",
		ErrorTitle:      "Something went wrong",
		ErrorText:       "Please try again.",

		ResultsTitle:    "Candidate results",
		ResultsIntro:    "Each trait's score (1 to 5) against the range the job accepts.",
		Fit:             "Fit with the job",
		Priority:        "Priority: %s",
		AcceptedRange:   "Accepted range",
		NotAccepted:     "Outside the range",
		ScoreInRange:    "Score in range",
		ScoreOutOfRange: "Score outside the range",
		InRange:         "in range",
		OutOfRange:      "outside the range",
		ChartLabel:      "%s: score %d of 5, %s",
		ValidFor:        "This link is valid for %d minutes.",
		Fits:            map[string]string{"high": "High", "medium": "Medium", "low": "Low"},
		Priorities:      map[string]string{"high": "high", "medium": "medium", "low": "low"},

		DashboardTitle:      "Dashboard",
		Candidates:          "Candidates",
		NoCandidates:        "No applications yet.",
		AllCandidates:       "All candidates",
		Timeline:            "Timeline",
		Results:             "Results",
		Applicant:           "Applicant",
		Job:                 "Job",
		Email:               "Email",
		Status:              "Status",
		InvitedAt:           "Invited at",
		NoResults:           "No results yet: the assessment has not been completed.",
		NoResultsAnonymized: "The applicant's data and results have been removed.",
		AnonymizedApplicant: "Anonymized applicant",
		SignIn:              "Sign in",
		SignInIntro:         "The mock's dashboard. Sign in with an API client of the mock's fixtures (client id and secret): you see that client's applications.",
		ClientID:            "Client id",
		ClientSecret:        "Client secret",
		SignInFailed:        "Unknown client id or wrong secret.",
		SignOut:             "Sign out",
		SignedInAs:          "Signed in as %s",
		Statuses: map[domain.Status]string{
			domain.Invited: "Invited", domain.Started: "Started", domain.Completed: "Completed",
			domain.Hired: "Hired", domain.Expired: "Expired", domain.Anonymized: "Anonymized",
		},
	},
	"nl": {
		LangName: "Nederlands", Language: "Taal",
		MockNote: "Geleverd door equalture-mock, een nabootsing van de Equalture-dienst om koppelingen te testen.",

		AssessmentTitle: "Vragenlijst",
		Greeting:        "Hallo %s,",
		Invited:         "je bent uitgenodigd voor het assessment voor %s.",
		MockNotice:      "Dit is een nagebootst assessment: een paar stellingen per eigenschap uit het profiel van de functie, niet de echte games van Equalture. Je antwoorden bepalen de scores die de recruiter ontvangt.",
		Part:            "Deel %d van %d",
		Progress:        "%d van %d beantwoord",
		Submit:          "Mijn antwoorden versturen",
		AnswerAll:       "Beantwoord alle stellingen: er staan er nog %d open.",
		AnswerThis:      "Beantwoord deze stelling.",
		Scale:           [5]string{"Helemaal oneens", "Oneens", "Neutraal", "Eens", "Helemaal eens"},
		ThanksTitle:     "Bedankt, %s!",
		ThanksText:      "Je antwoorden voor %s zijn verstuurd. Je kunt deze pagina sluiten.",
		ThanksNote:      "De mock heeft de sollicitatie afgerond en de resultaten naar het systeem van de recruiter gestuurd.",

		ExpiredTitle:    "Deze link is verlopen",
		ExpiredText:     "Links zijn beperkt geldig. Vraag de recruiter om een nieuwe.",
		UsedTitle:       "Dit assessment is al afgerond",
		UsedText:        "De link is gebruikt: een assessment kan één keer worden gemaakt.",
		AnonymizedTitle: "Deze sollicitatie is niet meer beschikbaar",
		AnonymizedText:  "De gegevens van de kandidaat zijn verwijderd.",
		InvalidTitle:    "Deze link is niet geldig",
		InvalidText:     "Controleer of je de hele link hebt gekopieerd.",
		NotFoundTitle:   "Pagina niet gevonden",
		NotFoundText:    "Er staat niets op dit adres.",
		ErrorTitle:      "Er ging iets mis",
		ErrorText:       "Probeer het opnieuw.",

		ResultsTitle:    "Resultaten van de kandidaat",
		ResultsIntro:    "De score per eigenschap (1 tot 5) ten opzichte van het bereik dat de functie accepteert.",
		Fit:             "Match met de functie",
		Priority:        "Prioriteit: %s",
		AcceptedRange:   "Geaccepteerd bereik",
		NotAccepted:     "Buiten het bereik",
		ScoreInRange:    "Uitslag binnen het bereik",
		ScoreOutOfRange: "Uitslag buiten het bereik",
		InRange:         "binnen het bereik",
		OutOfRange:      "buiten het bereik",
		ChartLabel:      "%s: uitslag %d van 5, %s",
		ValidFor:        "Deze link is %d minuten geldig.",
		Fits:            map[string]string{"high": "Hoog", "medium": "Gemiddeld", "low": "Laag"},
		Priorities:      map[string]string{"high": "hoog", "medium": "gemiddeld", "low": "laag"},

		DashboardTitle:      "Overzicht",
		Candidates:          "Kandidaten",
		NoCandidates:        "Nog geen sollicitaties.",
		AllCandidates:       "Alle kandidaten",
		Timeline:            "Tijdlijn",
		Results:             "Resultaten",
		Applicant:           "Kandidaat",
		Job:                 "Functie",
		Email:               "E-mailadres",
		Status:              "Fase",
		InvitedAt:           "Uitgenodigd op",
		NoResults:           "Nog geen resultaten: het assessment is nog niet afgerond.",
		NoResultsAnonymized: "De gegevens en resultaten van de kandidaat zijn verwijderd.",
		AnonymizedApplicant: "Geanonimiseerde kandidaat",
		SignIn:              "Inloggen",
		SignInIntro:         "Het overzicht van de mock. Log in met een API-client uit de fixtures van de mock (client-id en geheim): je ziet de sollicitaties van die client.",
		ClientID:            "Client-id",
		ClientSecret:        "Clientgeheim",
		SignInFailed:        "Onbekende client-id of verkeerd geheim.",
		SignOut:             "Uitloggen",
		SignedInAs:          "Ingelogd als %s",
		Statuses: map[domain.Status]string{
			domain.Invited: "Uitgenodigd", domain.Started: "Gestart", domain.Completed: "Afgerond",
			domain.Hired: "Aangenomen", domain.Expired: "Verlopen", domain.Anonymized: "Geanonimiseerd",
		},
	},
}

// labelsFor returns the labels of locale (en for one the mock does not know).
func labelsFor(locale string) *Labels { return labels[fixtures.Locale(locale)] }
