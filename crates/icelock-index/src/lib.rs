//! Python package indexes, as icelock reads them.
//!
//! This crate owns everything on the far side of the network: which indexes are configured (as
//! pip and uv users configure them), project pages in PEP 691 JSON and PEP 503 HTML, PEP 658
//! metadata files, and wheels read piecewise through HTTP range requests. It knows nothing about
//! installed environments or lock formats.

pub mod artifact;
pub mod cache;
pub mod client;
pub mod config;
pub mod lookup;
mod netrc;
pub mod pip_cache;
pub mod simple;
pub mod sparse_zip;
pub mod wheel_name;

pub use artifact::{Members, Reading, WheelFile};
pub use client::{Client, ClientOptions, FetchError};
pub use config::{IndexArgs, IndexConfig, Location};
pub use lookup::{Indexes, ListedFile, LookupError, ProjectFiles, WheelMembers};
pub use simple::{CoreMetadataInfo, IndexFile, PageError, ProjectPage};
pub use sparse_zip::ExpectedTail;
pub use wheel_name::WheelName;
