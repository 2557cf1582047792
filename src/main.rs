//! The `strom` binary. Everything lives in the library; this only hands over
//! and turns the outcome into an exit code.
fn main() {
    std::process::exit(strom::cli::main());
}
