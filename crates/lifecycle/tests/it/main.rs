//! Delete plans and their execution against real registries (distribution 2.8.2 without the
//! referrers API, ferro-oci-server with it), on graphs pushed for each test.

mod execute;
mod incomplete;
mod plans;
mod support;
