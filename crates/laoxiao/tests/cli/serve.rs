//! `laoxiao serve`: its flag errors, the first administrator, and the
//! passwords and tokens `laoxiao user` prints working against it.

use crate::harness::{Env, http};

#[test]
fn flag_errors() {
    let env = Env::sqlite();
    let o = env.cmd().args(["serve", "--addr", "nonsense"]).fails();
    assert!(
        o.stderr.contains("nonsense") && o.stderr.contains("127.0.0.1:8080"),
        "{o}"
    );
    let o = env
        .cmd()
        .env("LAOXIAO_ADDR", "also:wrong")
        .arg("serve")
        .fails();
    assert!(
        o.stderr.contains("LAOXIAO_ADDR") && o.stderr.contains("also:wrong"),
        "{o}"
    );
    env.cmd().args(["serve", "--port", "8080"]).usage_error();
    env.cmd().args(["serve", "--addr"]).usage_error();
    // A port that is taken.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let o = env.cmd().args(["serve", "--addr", &addr]).fails();
    assert!(
        o.stderr.contains("cannot listen") && o.stderr.contains(&addr),
        "{o}"
    );
    let o = env
        .cmd()
        .args(["serve", "--config"])
        .arg(env.path("none.toml"))
        .fails();
    assert!(o.stderr.contains("none.toml"), "{o}");
    let o = env
        .bare()
        .args(["--database", "mysql://x/y", "serve"])
        .fails();
    assert!(o.stderr.contains("mysql://x/y"), "{o}");
}

clitest!(people_without_keys_are_not_served, |env: &Env| {
    env.import("facilities", &crate::harness::example("facilities"));
    env.import("elderly", &crate::harness::example("elderly"));
    let o = env
        .cmd()
        .env_remove("LAOXIAO_KEY_FILE")
        .args(["serve", "--addr", "127.0.0.1:0"])
        .fails();
    assert!(
        o.stderr.contains("will not start") && o.stderr.contains("4 people"),
        "{o}"
    );
});

fn me(addr: &str, token: &str) -> (u16, String) {
    let r = http(
        addr,
        "GET",
        "/api/me",
        &[("Authorization", &format!("Bearer {token}"))],
        None,
    );
    (r.status, r.body)
}

clitest!(
    the_administrator_passwords_and_tokens_work_against_the_server,
    |env: &Env| {
        let server = env.cmd().args(["serve", "--addr", "127.0.0.1:0"]).serve();
        let admin_pw = server
            .printed
            .iter()
            .find_map(|l| l.split("one-time password: ").nth(1))
            .unwrap_or_else(|| panic!("no administrator password:\n{}", server.log()))
            .trim()
            .to_string();
        assert!(server.login("admin", &admin_pw).is_some(), "admin logs in");
        assert_eq!(
            http(&server.addr, "GET", "/api/health", &[], None).status,
            200
        );

        env.cmd()
            .args([
                "user",
                "add",
                "--username",
                "clerk",
                "--role",
                "town_staff",
                "--area",
                "330402007",
            ])
            .ok();
        let o = env.cmd().args(["user", "password", "clerk"]).ok();
        let pw = o
            .stdout
            .trim_end()
            .rsplit(' ')
            .next()
            .unwrap_or_default()
            .to_string();
        assert!(server.login("clerk", &pw).is_some(), "{o}");
        assert!(server.login("clerk", &format!("{pw}x")).is_none());
        env.cmd().args(["user", "disable", "clerk"]).ok();
        assert!(
            server.login("clerk", &pw).is_none(),
            "a disabled account logs in"
        );
        env.cmd().args(["user", "enable", "clerk"]).ok();
        assert!(server.login("clerk", &pw).is_some());

        let o = env
            .cmd()
            .args(["user", "token", "clerk", "--name", "ci"])
            .ok();
        let token = o
            .stdout
            .lines()
            .last()
            .unwrap_or_default()
            .trim()
            .to_string();
        let (status, body) = me(&server.addr, &token);
        assert_eq!(status, 200, "{body}");
        let who: serde_json::Value = serde_json::from_str(&body).expect("json");
        assert_eq!(who["username"], "clerk");
        assert_eq!(who["area_code"], "330402007");
        env.cmd()
            .args(["user", "revoke", "clerk", "--name", "ci"])
            .ok();
        assert_eq!(
            me(&server.addr, &token).0,
            401,
            "a revoked token still works"
        );
        assert_eq!(me(&server.addr, "lx_not-a-token").0, 401);
    }
);

/// The server's environment as the kernel holds it.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn environ_of(pid: u32) -> Vec<String> {
    std::fs::read(format!("/proc/{pid}/environ"))
        .map(|b| {
            b.split(|&c| c == 0)
                .map(|v| String::from_utf8_lossy(v).into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Starts `serve` on a fresh file and returns its MALLOC_ARENA_MAX as the
/// running process sees it.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn served_arena_setting(outer: Option<&str>) -> Option<String> {
    let env = Env::sqlite();
    let mut c = env.cmd();
    c.args(["serve", "--addr", "127.0.0.1:0"])
        .env_remove("MALLOC_ARENA_MAX");
    if let Some(v) = outer {
        c.env("MALLOC_ARENA_MAX", v);
    }
    let server = c.serve();
    let found = environ_of(server.pid())
        .into_iter()
        .find_map(|v| v.strip_prefix("MALLOC_ARENA_MAX=").map(str::to_string));
    server.stop();
    found
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn the_server_runs_with_two_malloc_arenas_unless_told_otherwise() {
    assert_eq!(
        served_arena_setting(None).as_deref(),
        Some(laoxiao::process::ARENAS)
    );
    assert_eq!(served_arena_setting(Some("6")).as_deref(), Some("6"));
}
