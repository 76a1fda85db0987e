//! `laoxiao user …`: every subcommand. That the passwords and tokens they print
//! work against a server is in serve.rs.

use crate::harness::Env;

/// The `user list` line of `name`, split in its fields
/// (username, role, area, facility, state).
fn listed(env: &Env, name: &str) -> Option<Vec<String>> {
    let o = env.cmd().args(["user", "list"]).ok();
    o.stdout
        .lines()
        .map(|l| l.split_whitespace().map(str::to_string).collect::<Vec<_>>())
        .find(|f| f.first().map(String::as_str) == Some(name))
}

/// The one-time password printed after the last ": ".
fn password_in(stdout: &str) -> String {
    let pw = stdout
        .trim_end()
        .rsplit(": ")
        .next()
        .unwrap_or_default()
        .to_string();
    assert!(
        pw.len() >= 12
            && pw
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
        "not a password: {stdout:?}"
    );
    pw
}

clitest!(add_list_disable_enable_password, |env: &Env| {
    assert!(listed(env, "clerk").is_none());
    let o = env
        .cmd()
        .args([
            "user",
            "add",
            "--username",
            "clerk",
            "--role",
            "village_staff",
        ])
        .args(["--area", "330402007029"])
        .ok();
    let first = password_in(&o.stdout);
    assert_eq!(
        listed(env, "clerk").expect("listed"),
        ["clerk", "village_staff", "330402007029", "-", "active"]
    );

    // The same name twice is refused and the first account is kept.
    let o = env
        .cmd()
        .args(["user", "add", "--username", "clerk", "--role", "auditor"])
        .args(["--area", "330400"])
        .fails();
    assert!(o.stderr.contains("clerk"), "{o}");
    assert_eq!(listed(env, "clerk").expect("listed")[1], "village_staff");

    env.cmd().args(["user", "disable", "clerk"]).ok();
    assert_eq!(listed(env, "clerk").expect("listed")[4], "disabled");
    env.cmd().args(["user", "enable", "clerk"]).ok();
    assert_eq!(listed(env, "clerk").expect("listed")[4], "active");

    let o = env.cmd().args(["user", "password", "clerk"]).ok();
    let second = password_in(&o.stdout);
    assert_ne!(first, second);
    let o = env.cmd().args(["user", "password", "nobody"]).fails();
    assert!(o.stderr.contains("nobody"), "{o}");
    let o = env.cmd().args(["user", "disable", "nobody"]).fails();
    assert!(o.stderr.contains("nobody"), "{o}");
});

clitest!(add_refuses_what_an_account_cannot_be, |env: &Env| {
    // Each refused with the reason naming the bad part, and nothing created.
    let cases: [(&[&str], &str); 3] = [
        (&["--role", "wizard", "--area", "330402"], "wizard"),
        (&["--role", "town_staff", "--area", "999999"], "999999"),
        (
            &["--role", "facility_operator", "--area", "330402"],
            "--facility",
        ),
    ];
    for (args, named) in cases {
        let o = env
            .cmd()
            .args(["user", "add", "--username", "bad"])
            .args(args)
            .fails();
        assert!(o.stderr.contains(named), "{args:?}: {o}");
        assert!(listed(env, "bad").is_none(), "{args:?} created an account");
    }
    // A role's list of valid values comes with the refusal.
    let o = env
        .cmd()
        .args([
            "user",
            "add",
            "--username",
            "bad",
            "--role",
            "x",
            "--area",
            "330400",
        ])
        .fails();
    for role in ["city_admin", "village_staff", "auditor", "analyst"] {
        assert!(o.stderr.contains(role), "{o}");
    }
    // Missing flags are usage errors.
    env.cmd()
        .args(["user", "add", "--username", "bad"])
        .usage_error();
});

clitest!(
    an_operator_is_tied_to_a_facility_in_the_register,
    |env: &Env| {
        env.import("facilities", &crate::harness::example("facilities"));
        env.cmd()
            .args([
                "user",
                "add",
                "--username",
                "op",
                "--role",
                "facility_operator",
            ])
            .args(["--area", "330402007", "--facility", "F001"])
            .ok();
        assert_eq!(listed(env, "op").expect("listed")[3], "F001");
        // A facility not on the register is refused, and nothing is created.
        let o = env
            .cmd()
            .args(["user", "add", "--username", "op2", "--role"])
            .args([
                "facility_operator",
                "--area",
                "330402007",
                "--facility",
                "NOPE",
            ])
            .fails();
        assert!(o.stderr.contains("NOPE"), "{o}");
        assert!(listed(env, "op2").is_none(), "an operator of no facility");
    }
);

clitest!(token_tokens_revoke, |env: &Env| {
    env.cmd()
        .args([
            "user",
            "add",
            "--username",
            "svc",
            "--role",
            "analyst",
            "--area",
            "330400",
        ])
        .ok();
    let o = env
        .cmd()
        .args(["user", "token", "svc", "--name", "ci", "--days", "3"])
        .ok();
    let token = o
        .stdout
        .lines()
        .last()
        .unwrap_or_default()
        .trim()
        .to_string();
    assert!(token.len() >= 32 && !token.contains(' '), "{o}");

    let o = env.cmd().args(["user", "tokens", "svc"]).ok();
    let lines: Vec<&str> = o.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{o}");
    assert!(lines[0].starts_with("ci "), "{o}");
    assert!(
        !o.stdout.contains(&token),
        "the secret is shown once only: {o}"
    );
    // Expires `--days` after it was created.
    let dates: Vec<chrono::NaiveDate> = lines[0]
        .split_whitespace()
        .filter_map(|w| w.get(..10)?.parse().ok())
        .collect();
    assert_eq!(dates.len(), 2, "{o}");
    assert_eq!((dates[1] - dates[0]).num_days(), 3, "{o}");
    assert!(!lines[0].contains("revoked"), "{o}");

    env.cmd()
        .args(["user", "revoke", "svc", "--name", "ci"])
        .ok();
    let o = env.cmd().args(["user", "tokens", "svc"]).ok();
    assert!(o.stdout.contains("revoked"), "{o}");
    let o = env
        .cmd()
        .args(["user", "revoke", "svc", "--name", "nope"])
        .fails();
    assert!(o.stderr.contains("nope"), "{o}");
    let o = env
        .cmd()
        .args(["user", "token", "nobody", "--name", "x"])
        .fails();
    assert!(o.stderr.contains("nobody"), "{o}");
});
