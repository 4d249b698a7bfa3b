//! placeholder until the helper writes it
#[derive(Debug)] pub struct LowFidelity;
