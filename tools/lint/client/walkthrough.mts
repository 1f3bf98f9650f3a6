// The walk-through of openapi.yaml with the TypeScript client an ATS team generates with default
// settings: types by openapi-typescript (`openapi-typescript openapi.yaml -o equalture.d.ts`),
// calls by openapi-fetch. `tsc --strict --noEmit` checks it; tools/codegen's Go test also runs it
// (node 20) against the mock. It stands on fetch alone: no Node types.
import createClient from "openapi-fetch";
import type { components, paths } from "./equalture.js";

type Schemas = components["schemas"];

// Both error shapes are plain objects a client can build (in tests, in fakes of its own).
export const notFound: Schemas["Error"] = { errors: { detail: "Not Found" } };
export const invalidInvitation: Schemas["ValidationError"] = {
  errors: { "applicant_details.email": ["can't be blank"], job_id: ["does not exist"] },
};

function check(ok: boolean, what: string, answer?: unknown): asserts ok {
  if (!ok) {
    throw new Error(`${what}: ${JSON.stringify(answer)}`);
  }
}

/** Where the walk-through runs: the vendor API, a client of it, the mock's control API, a results receiver. */
export interface Target {
  base: string;
  clientId: string;
  clientSecret: string;
  control: string;
  callbackURL: string;
}

export async function walkThrough(t: Target): Promise<void> {
  const anon = createClient<paths>({ baseUrl: t.base });
  const token = await anon.POST("/connect_ats/access_token", {
    headers: { Authorization: "Basic " + btoa(`${t.clientId}:${t.clientSecret}`) },
  });
  check(token.data !== undefined, "token", token.error);
  const api = createClient<paths>({ baseUrl: t.base, headers: { Authorization: `Bearer ${token.data.access_token}` } });

  const jobs = await api.GET("/connect_ats/jobs");
  check(jobs.data !== undefined && jobs.data.length > 0, "jobs", jobs.error);
  const job: Schemas["Job"] = jobs.data[0];

  // invitation_type left out: an email invitation.
  const invitation: Schemas["Invitation"] = {
    job_id: job.id,
    callback_url: t.callbackURL,
    applicant_details: { first_name: "Rembrandt", last_name: "Van Rijn", email: "rembrandt@example.com" },
  };
  const byEmail = await api.POST("/connect_ats/applications", { body: invitation });
  check(byEmail.data !== undefined && byEmail.data.assessment_url === undefined, "invitation by email", byEmail.data ?? byEmail.error);
  const byLink = await api.POST("/connect_ats/applications", { body: { ...invitation, invitation_type: "one_time_link" } });
  check(byLink.data?.assessment_url !== undefined, "one-time link", byLink.data ?? byLink.error);
  const ref = byEmail.data.reference_id;
  const app = { params: { path: { reference_id: ref } } };

  const status = async (reference_id: string): Promise<Schemas["ApplicationStatus"]["status"] | undefined> =>
    (await api.GET("/connect_ats/applications/{reference_id}/status", { params: { path: { reference_id } } })).data?.status;
  check((await status(ref)) === "invited", "status after the invitation");

  // The applicant completes the assessment (the mock's control API plays it).
  const done = await fetch(`${t.control}/applications/${ref}/complete`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: "{}",
  });
  check(done.ok, "completion", done.status);
  check((await status(ref)) === "completed", "status after completion");

  const results = await api.GET("/connect_ats/applications/{reference_id}/results", {
    params: { path: { reference_id: ref }, query: { locale: "en" } },
  });
  check(results.data !== undefined && results.data.detailed_scores.length > 0, "results", results.error);
  const fit: "low" | "medium" | "high" = results.data.fit;

  const link = await api.GET("/connect_ats/applications/{reference_id}/public_link", {
    params: { path: { reference_id: ref }, query: { locale: "en" } },
  });
  check(link.data !== undefined, "public link", link.error);
  const minutes: number = Number.parseInt(link.data.ttl, 10);
  check(minutes === 120 && link.data.ttl_units === "minutes", "public link ttl", link.data);

  const hire: Schemas["Hiring"] = { add_to_team: true, start_date: "2025-07-01" };
  const hired = await api.POST("/connect_ats/applications/{reference_id}/hire_applicant", { ...app, body: hire });
  check(hired.data?.reference_id === ref, "hire", hired.data ?? hired.error);
  check((await status(ref)) === "hired", "status after the hire");

  const gone = await api.DELETE("/connect_ats/applications/{reference_id}/anonymize_application", {
    params: { path: { reference_id: byLink.data.reference_id } },
  });
  check(gone.data?.reference_id === byLink.data.reference_id, "anonymize", gone.data ?? gone.error);
  check((await status(byLink.data.reference_id)) === "anonymized", "status after anonymizing");

  // Several fields wrong, one of them a job the client does not have: one 422 names them all.
  const invalid = await api.POST("/connect_ats/applications", {
    body: {
      job_id: "00000000-0000-4000-8000-00000000abcd",
      callback_url: "ftp://ats.example/cb",
      applicant_details: { first_name: "", last_name: "Van Rijn", email: "rembrandt@example.com" },
    },
  });
  check(invalid.response.status === 422 && invalid.error !== undefined, "invalid invitation", invalid.error);
  const fields = (invalid.error as Schemas["ValidationError"]).errors;
  check(
    JSON.stringify(Object.keys(fields).sort()) === JSON.stringify(["applicant_details.first_name", "callback_url", "job_id"]) &&
      fields.job_id[0] === "does not exist",
    "422 fields",
    fields,
  );

  const missing = await api.GET("/connect_ats/applications/{reference_id}/status", {
    params: { path: { reference_id: "00000000-0000-4000-8000-000000000000" } },
  });
  check(missing.response.status === 404 && (missing.error as Schemas["Error"]).errors.detail !== "", "unknown application", missing.error);
  console.log(`walk-through passed (fit ${fit})`);
}

declare const process: { env: Record<string, string | undefined>; exitCode?: number };

// Run by node with the target in the environment (tools/codegen's test sets it).
if (process.env.EQUALTURE_URL !== undefined) {
  const env = (name: string): string => process.env[name] ?? "";
  walkThrough({
    base: env("EQUALTURE_URL"),
    clientId: env("EQUALTURE_CLIENT_ID"),
    clientSecret: env("EQUALTURE_CLIENT_SECRET"),
    control: env("EQUALTURE_CONTROL_URL"),
    callbackURL: env("EQUALTURE_CALLBACK_URL"),
  }).catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
