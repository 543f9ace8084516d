// `embed_migrations!` only tracks files that existed at the last build; this
// makes a new migration folder trigger a rebuild too.
fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
