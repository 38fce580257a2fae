//! Builds libzmq 4.3.4 (the source `zeromq-src` vendors) with the DRAFT API and links it
//! statically. CURVE stays off, as in the `zmq` crate's own build.
fn main() {
    zeromq_src::Build::new().enable_draft(true).build();
}
