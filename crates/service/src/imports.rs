//! Imports of OCI image layouts that are not a configured registry: a directory on the server
//! (the CLI) or an uploaded tar archive (the API and the import page). The archive is unpacked,
//! checked entry by entry, into a temporary directory; the layout is served read-only on
//! loopback, indexed in memory, and copied with the same copy plan as any copy — kept with the
//! plan (and gone with it) until it runs.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::Utc;
use ocicat_access::Principal;
use ocicat_catalog::{Scope, WriterConfig};
use ocicat_copy::{CopyRequest, Endpoint};
use ocicat_crawler::{RegistrySource, StatusBoard, crawl_registry};
use ocicat_oci::{Client, ClientConfig, Credentials, Secret};

use crate::copies::{Imported, Stored, view};
use crate::lifecycle::actor_of;
use crate::model::CopyView;
use crate::{AppError, Service, authz};

/// Most bytes an uploaded archive may hold (and unpack to).
pub const MAX_IMPORT_BYTES: u64 = 64 << 30;
/// The name an imported layout goes by in its plan.
const IMPORT_REGISTRY: &str = "import";

/// Where a layout to import is.
#[derive(Debug)]
pub enum ImportSource {
    /// A layout directory on this machine.
    Directory(PathBuf),
    /// A tar archive of one (deleted with the plan when `owned`).
    Archive {
        /// The archive.
        path: PathBuf,
        /// Whether the archive is this import's own (an upload), removed once unpacked.
        owned: bool,
    },
}

fn bad(message: impl Into<String>) -> AppError {
    AppError::BadRequest(message.into())
}

impl Service {
    /// Plans importing the layout at `source` into `destination` (every tagged artifact with its
    /// tags, or the one tagged artifact under `tags`), for `who`, who may write there.
    pub async fn plan_import(
        &self,
        who: &Principal,
        source: ImportSource,
        destination: Endpoint,
        tags: Vec<String>,
    ) -> Result<CopyView, AppError> {
        if !ocicat_oci::is_valid_repository(&destination.repository) {
            return Err(bad(format!("{:?} is not a repository name", destination.repository)));
        }
        if let Some(tag) = tags.iter().find(|tag| !ocicat_oci::is_valid_tag(tag)) {
            return Err(bad(format!("{tag:?} is not a tag")));
        }
        authz::copy_to(who, &self.registries(), &destination.registry, &destination.repository)?;
        let engine = self.engine()?;
        let destination_client = engine
            .client(&destination.registry)
            .cloned()
            .ok_or_else(|| AppError::NotFound(format!("registry {:?}", destination.registry)))?;
        let (dir, unpacked) = match source {
            ImportSource::Directory(dir) => (dir, None),
            ImportSource::Archive { path, owned } => {
                let temporary = tempfile::tempdir().map_err(|error| {
                    tracing::error!(%error, "cannot make a directory for an import");
                    AppError::Internal
                })?;
                let dir = temporary.path().join("layout");
                let (target, archive) = (dir.clone(), path.clone());
                let unpacked = tokio::task::spawn_blocking(move || {
                    let file = std::fs::File::open(&archive)?;
                    ocicat_layout::archive::unpack(file, &target, MAX_IMPORT_BYTES)
                        .map_err(|error| std::io::Error::other(error.to_string()))
                })
                .await;
                if owned {
                    let _ = std::fs::remove_file(&path);
                }
                match unpacked {
                    Ok(Ok(_)) => {}
                    Ok(Err(error)) => return Err(bad(format!("not a layout archive: {error}"))),
                    Err(_) => return Err(AppError::Internal),
                }
                (dir, Some(temporary))
            }
        };
        let found = ocicat_layout::discover(&dir).map_err(|error| bad(format!("not a layout: {error}")))?;
        let repository = match found.as_slice() {
            [(name, _)] => name.clone(),
            [] => return Err(bad("no OCI image layout there (no oci-layout file)")),
            several => {
                let names: Vec<&str> = several.iter().map(|(name, _)| name.as_str()).collect();
                return Err(bad(format!("several layouts ({}); name one of their directories", names.join(", "))));
            }
        };
        let server = ocicat_layout::serve(dir.clone()).await.map_err(|error| bad(error.to_string()))?;
        let credentials = Credentials::Basic {
            username: ocicat_layout::USERNAME.to_owned(),
            password: Secret::new(server.password().to_owned()),
        };
        let client = Client::new(ClientConfig::new(server.url().clone(), credentials)).map_err(|error| {
            tracing::error!(%error, "cannot read an imported layout");
            AppError::Internal
        })?;
        let (catalog, writer) = ocicat_catalog::open_in_ram(WriterConfig::default()).map_err(|error| {
            tracing::error!(%error, "cannot index an imported layout");
            AppError::Internal
        })?;
        let board = StatusBoard::default();
        board.register(IMPORT_REGISTRY, &crate::model::layout_location(&dir));
        let layout = RegistrySource::new(IMPORT_REGISTRY, client.clone());
        crawl_registry(&layout, &catalog, &writer, &board, 4)
            .await
            .map_err(|error| bad(format!("the layout cannot be read: {error}")))?;
        writer.flush().await.map_err(|_| AppError::Internal)?;
        let digest = if tags.is_empty() {
            None
        } else {
            let tagged: Vec<String> = catalog
                .artifacts_in_repository(IMPORT_REGISTRY, &repository)
                .map_err(|_| AppError::Internal)?
                .into_iter()
                .filter(|doc| {
                    !doc.referrers_index && doc.tags.iter().any(|tag| ocicat_catalog::cosign_tag_subject(tag).is_none())
                })
                .map(|doc| doc.digest)
                .collect();
            match tagged.as_slice() {
                [one] => Some(one.clone()),
                _ => return Err(bad(format!("the layout names {} artifacts: a tag needs exactly one", tagged.len()))),
            }
        };
        let request = CopyRequest {
            source: Endpoint { registry: IMPORT_REGISTRY.to_owned(), repository },
            digest,
            query: None,
            destination,
            tags,
            filter: ocicat_copy::GraphFilter::default(),
        };
        let plan = ocicat_copy::plan(&catalog, &Scope::all(), &destination_client, &request)
            .await
            .map_err(crate::copies::copy_error)?;
        let actor = actor_of(who);
        let summary = format!("import from {}: {}", dir.display(), crate::copies::plan_summary(&plan));
        engine.audit(crate::copies::audit_line(&actor, "copy-plan", &plan, None, "planned", Some(summary))).await;
        let imported = Imported { client, _server: server, _unpacked: unpacked };
        let stored =
            Stored { created: Utc::now(), actor, plan, report: None, running: false, import: Some(Arc::new(imported)) };
        let id = self.copies.keep(stored.clone());
        Ok(view(id, stored))
    }
}
