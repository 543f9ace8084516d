//! The web UI clicked through in a real headless Chromium: Debian's
//! `/usr/bin/chromium`, driven by playwright-core from
//! `tests/browser/journeys.mjs` (both installed by scripts/test-setup.sh),
//! against `odr serve` on a fresh SQLite database with the demo data. Every
//! page the journeys visit is screenshotted under `<target>/browser/<journey>/`
//! (`make screenshots` copies a few to docs/screenshots/).

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use odr_store::Backend;

use crate::server::Site;

const CHROMIUM: &str = "/usr/bin/chromium";
/// The whole node run, every journey in one browser; it takes well under a
/// minute alone, more under a busy `make test`.
const NODE_TIMEOUT: Duration = Duration::from_secs(240);

on_databases!(
    both: [],
    sqlite: [journeys_click_through_the_web_ui_in_headless_chromium],
);

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("cannot resolve the workspace root")
}

/// `<target>/browser`, beside the test binary's `debug/` directory, or
/// `ODR_BROWSER_OUT`.
fn output_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("ODR_BROWSER_OUT") {
        return PathBuf::from(dir);
    }
    let exe = std::env::current_exe().expect("cannot find the test binary");
    // <target>/debug/deps/it-…
    exe.ancestors()
        .nth(3)
        .expect("the test binary lives in <target>/<profile>/deps")
        .join("browser")
}

/// What the journeys need, or a panic saying how to install it: never a skip.
fn require_browser_tools(browser_dir: &Path) {
    let setup = "run scripts/test-setup.sh (it installs Debian's chromium and \
                 `npm ci --prefix tests/browser`)";
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: {setup}"
    );
    assert!(
        browser_dir
            .join("node_modules/playwright-core/package.json")
            .exists(),
        "{}/node_modules/playwright-core is missing: {setup}",
        browser_dir.display()
    );
    let node = Command::new("node").arg("--version").output();
    assert!(
        node.as_ref().is_ok_and(|o| o.status.success()),
        "node does not run ({node:?}): the browser journeys need Node.js 20 or later"
    );
}

fn journeys_click_through_the_web_ui_in_headless_chromium() {
    let root = workspace_root();
    let browser_dir = root.join("tests/browser");
    require_browser_tools(&browser_dir);

    let site = Site::new(Backend::Sqlite);
    site.run(&["seed-demo"], &[]).assert_success();
    // Each journey signs in several people; stay clear of the login limit.
    // Every request in the log: what a failing journey's server saw.
    let server = site.serve(&[("ODR_RATE_LIMIT_LOGIN", "1000/min"), ("ODR_LOG", "info")]);

    let out = output_dir();
    fs::create_dir_all(&out).expect("cannot create the screenshot directory");
    let log_path = site.root().join("logs/journeys.log");
    let log = File::create(&log_path).expect("cannot create the journeys log");
    let started = Instant::now();
    let mut node = Command::new("node")
        .arg(browser_dir.join("journeys.mjs"))
        .arg("--base-url")
        .arg(server.base_url())
        .arg("--out")
        .arg(&out)
        .current_dir(&root)
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("cannot share the journeys log"))
        .stderr(log)
        .spawn()
        .expect("cannot start node");
    let status = loop {
        if let Some(status) = node.try_wait().expect("cannot wait for node") {
            break Some(status);
        }
        if started.elapsed() > NODE_TIMEOUT {
            let _ = node.kill();
            let _ = node.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let elapsed = started.elapsed();
    let output = fs::read_to_string(&log_path).unwrap_or_default();
    // The server's log follows a failure: `Server` prints it when dropped
    // during a panic.
    match status {
        // Shown with --no-capture: each page visited and the time taken.
        Some(status) if status.success() => println!(
            "{output}\nbrowser journeys took {elapsed:?}; screenshots in {}",
            out.display()
        ),
        Some(status) => panic!(
            "the browser journeys failed ({status}) after {elapsed:?}; screenshots in {}:\n{output}",
            out.display()
        ),
        None => panic!("the browser journeys still ran after {NODE_TIMEOUT:?}:\n{output}"),
    }
}
