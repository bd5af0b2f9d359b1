//! ocicat's integration tests: the real router over real distribution registries seeded by the
//! real seeder, one registry per test. Shared helpers live in `util`.

mod util;

// `/healthz` and the headers every response carries.
mod health;
// The JSON API (`/api/v1`): registries, repositories, artifacts and its errors.
mod api;
// Badges computed from referrers: signature verdicts, SBOM, scans, end of life.
mod badges;
// Server-rendered pages.
mod pages;
// Hostile annotations and labels are escaped and never become unsafe links (SECURITY S11, S12).
mod escaping;
// Sign-in, roles per registry and repository, sessions, CSRF, API tokens (SECURITY S18, S19, S21).
mod access;
// Basic and token authentication against distribution.
mod auth;
// The issue-16 access bugs over HTTP: retention reach, reports, whole-registry facts, name oracles.
mod authz;
// A canary password never reaches a response (SECURITY S20).
mod secrets;
// A registry that is down does not stop the others.
mod unreachable;
// The content proxy: indexed parts only, verified, delivered as attachments (SECURITY S13, S21).
mod content;
// SBOM, scan, signature and attestation viewers; hostile documents (SECURITY S12–S14).
mod viewers;
// Markup, long values, bombs and HTML in attached documents (SECURITY S12–S14).
mod hostile_documents;
// Helm charts and WebAssembly as their own tools show them.
mod kinds;
// Which artifacts contain a package or carry an advisory (issue 21).
mod impact;

// Delete plans, execution, CSRF and the audit log over the API (S18, S22).
mod lifecycle;

// Copy plans and their execution over the API: rights, CSRF, fingerprints, moved tags, audit.
mod copies;
// Attaching an end of life, annotations and documents later, through the API.
mod attachments;
// Signature verdicts under trust policies in the API, the pages and search.
mod trust;
// The OpenAPI 3.1 description: valid, complete, and every documented route answers.
mod openapi;
