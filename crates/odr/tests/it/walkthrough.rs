//! The README's walkthrough, run as written against a server with the demo
//! data, so that the first thing a newcomer tries cannot rot.

use crate::server::Site;

on_databases! {
    both: [],
    sqlite: [readme_walkthrough_runs_as_written],
}

const README: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md");
const START: &str = "<!-- walkthrough:start -->";
const END: &str = "<!-- walkthrough:end -->";

/// The code of the one ```bash fence between the walkthrough markers.
fn walkthrough(readme: &str) -> Result<String, String> {
    let (_, rest) = readme
        .split_once(START)
        .ok_or_else(|| format!("no `{START}` line"))?;
    let (section, _) = rest
        .split_once(END)
        .ok_or_else(|| format!("no `{END}` line after `{START}`"))?;
    let (_, fenced) = section
        .split_once("```bash\n")
        .ok_or("no ```bash fence between the markers")?;
    let (code, _) = fenced
        .split_once("\n```")
        .ok_or("the ```bash fence is not closed before the end marker")?;
    if section.matches("```bash").count() != 1 {
        return Err("more than one ```bash fence between the markers".into());
    }
    Ok(format!("{code}\n"))
}

fn readme_walkthrough_runs_as_written() {
    let readme =
        std::fs::read_to_string(README).unwrap_or_else(|e| panic!("cannot read {README}: {e}"));
    let code = walkthrough(&readme)
        .unwrap_or_else(|problem| panic!("README.md has no runnable walkthrough: {problem}"));
    assert!(
        code.lines()
            .any(|line| line.trim() == "ODR=${ODR:-http://127.0.0.1:8080}"),
        "the walkthrough must set `ODR=${{ODR:-http://127.0.0.1:8080}}` so that it can be \
         pointed at any server; it reads:\n{code}"
    );

    let site = Site::new(odr_store::Backend::Sqlite);
    site.run(&["seed-demo"], &[]).assert_success();
    let server = site.serve(&[]);

    let base_url = server.base_url();
    let out = site.run_bash(&code, &[("ODR", base_url.as_str())]);
    assert!(
        out.status.success(),
        "the README walkthrough failed ({}) against {base_url}:\n--- script ---\n{code}\
         --- stdout ---\n{}--- stderr ---\n{}",
        out.status,
        out.stdout,
        out.stderr
    );
    assert!(
        out.stdout.contains("decided"),
        "the README walkthrough must end with a decided complaint; it printed:\n{}",
        out.stdout
    );
}

#[test]
fn the_walkthrough_is_the_fenced_code_between_the_markers() {
    let readme = format!(
        "# ODR\n\n{START}\nRun this:\n\n```bash\nODR=${{ODR:-http://127.0.0.1:8080}}\ncurl -s \"$ODR/healthz\"\n```\n{END}\n\n```bash\nnot this\n```\n"
    );
    assert_eq!(
        walkthrough(&readme).as_deref(),
        Ok("ODR=${ODR:-http://127.0.0.1:8080}\ncurl -s \"$ODR/healthz\"\n")
    );
    assert!(walkthrough("no markers").is_err());
}
