//! `laoxiao demo` at a tiny scale: its accounts, one per role, printed and on
//! the login page, each able to log in; reused on the next start.

use crate::harness::{Env, Server, column, is_masked_id, is_valid_id};

/// The eight roles (README, docs/security.md).
const ROLES: [&str; 9] = [
    "city_admin",
    "county_admin",
    "town_staff",
    "village_staff",
    "facility_operator",
    "inspector",
    "auditor",
    "analyst",
    "family",
];

#[derive(Debug, Clone, PartialEq)]
struct Account {
    username: String,
    password: String,
    role: String,
    area: String,
}

/// The accounts demo printed: the lines after "demo accounts", each
/// `username password role (area name AREA_CODE)`.
fn printed_accounts(s: &Server) -> Vec<Account> {
    let start = s
        .printed
        .iter()
        .position(|l| l.starts_with("demo accounts"))
        .unwrap_or_else(|| panic!("no account list:\n{}", s.log()));
    // The list's lines are indented; the background load may print its own
    // lines (service records loaded, …) before the server says it serves.
    s.printed[start + 1..]
        .iter()
        .take_while(|l| l.starts_with("  "))
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            assert!(f.len() >= 4 && f[3].starts_with('('), "{l:?}");
            Account {
                username: f[0].into(),
                password: f[1].into(),
                role: f[2].into(),
                area: f[f.len() - 1].trim_end_matches(')').into(),
            }
        })
        .collect()
}

fn start_demo(env: &Env) -> Server {
    env.cmd()
        .args([
            "demo",
            "--scale",
            "0.001",
            "--seed",
            "4",
            "--addr",
            "127.0.0.1:0",
        ])
        .serve()
}

clitest!(
    one_account_per_role_that_logs_in_and_is_kept,
    |env: &Env| {
        let server = start_demo(env);
        let accounts = printed_accounts(&server);
        let mut roles: Vec<&str> = accounts.iter().map(|a| a.role.as_str()).collect();
        roles.sort();
        // One account per role, a second operator: the childcare
        // institution's (it files with the county), and a second inspector
        // (双随机: every inspection needs two inspectors).
        let mut want = ROLES.to_vec();
        want.push("facility_operator");
        want.push("inspector");
        want.sort();
        assert_eq!(roles, want, "{accounts:?}");
        assert!(
            accounts
                .iter()
                .any(|a| a.username == "childcare" && a.role == "facility_operator"),
            "{accounts:?}"
        );

        // The login page lists them, passwords included (synthetic data only).
        let page = server.get("/console/login", &[]);
        assert_eq!(page.status, 200);
        for a in &accounts {
            assert!(
                page.body.contains(&a.username) && page.body.contains(&a.password),
                "{a:?}"
            );
            assert!(
                server.login(&a.username, &a.password).is_some(),
                "{a:?} cannot log in"
            );
            assert!(
                server.login(&a.username, "not-the-password").is_none(),
                "{a:?}"
            );
        }

        // Home areas nest: the county in the city, the town in the county, the village in the town.
        let area = |role: &str| -> String {
            accounts
                .iter()
                .find(|a| a.role == role)
                .map(|a| a.area.clone())
                .unwrap_or_default()
        };
        let (city, county, town, village) = (
            area("city_admin"),
            area("county_admin"),
            area("town_staff"),
            area("village_staff"),
        );
        assert_eq!(
            (city.len(), county.len(), town.len(), village.len()),
            (6, 6, 9, 12)
        );
        assert!(county.starts_with(&city[..4]) && county != city, "{county}");
        assert!(
            town.starts_with(&county) && village.starts_with(&town),
            "{town} {village}"
        );
        let people = env.export_csv("elderly", &[]);
        assert!(!people.1.is_empty(), "the demo registered people");
        let id = people
            .0
            .iter()
            .position(|h| h.contains("身份证"))
            .expect("id column");
        assert!(people.1.iter().all(|r| is_masked_id(&r[id])));
        server.stop();

        // The operator runs a facility of the register, within the operator's area.
        let o = env.cmd().args(["user", "list"]).ok();
        let op: Vec<&str> = o
            .stdout
            .lines()
            .find(|l| l.split_whitespace().nth(1) == Some("facility_operator"))
            .unwrap_or_else(|| panic!("{o}"))
            .split_whitespace()
            .collect();
        let facilities = env.export_csv("facilities", &["--lang", "en"]);
        let (fid, farea) = (
            column(&facilities, &["id"]),
            column(&facilities, &["area_code"]),
        );
        let f = facilities
            .1
            .iter()
            .find(|r| r[fid] == op[3])
            .unwrap_or_else(|| panic!("operator's facility {} not in the register", op[3]));
        assert!(
            f[farea].starts_with(op[2]),
            "{} outside {}",
            f[farea],
            op[2]
        );

        // A second start reuses the database and the accounts.
        let again = start_demo(env);
        assert!(
            again.printed.iter().any(|l| l.starts_with("reusing")),
            "{}",
            again.log()
        );
        assert_eq!(printed_accounts(&again), accounts);
        assert_eq!(env.export_csv("elderly", &[]).1.len(), people.1.len());
        let village_staff = accounts
            .iter()
            .find(|a| a.role == "village_staff")
            .expect("village");
        assert!(
            again
                .login(&village_staff.username, &village_staff.password)
                .is_some()
        );
    }
);

#[test]
fn without_keys_demo_makes_its_own_private_key_file() {
    let env = Env::sqlite();
    let server = env
        .bare()
        .args([
            "demo",
            "--scale",
            "0.001",
            "--addr",
            "127.0.0.1:0",
            "--database",
            "d.db",
        ])
        .serve();
    assert!(
        server
            .printed
            .iter()
            .any(|l| l.contains("created the demo key file d.key")),
        "{}",
        server.log()
    );
    server.stop();
    let key = env.path("d.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    // The people are encrypted under it: with it the full numbers read back.
    let out = env.path("e.csv");
    env.bare()
        .env("LAOXIAO_KEY_FILE", &key)
        .args([
            "--database",
            "d.db",
            "export",
            "elderly",
            "--full-id-numbers",
            "--lang",
            "en",
            "--out",
        ])
        .arg(&out)
        .ok();
    let t = crate::harness::csv_rows(&out);
    let id = column(&t, &["id_number"]);
    assert!(!t.1.is_empty() && t.1.iter().all(|r| is_valid_id(&r[id])));
    // Serving them without the key is refused.
    let o = env
        .bare()
        .args(["--database", "d.db", "serve", "--addr", "127.0.0.1:0"])
        .fails();
    assert!(o.stderr.contains("will not start"), "{o}");
}

#[test]
fn demo_flag_errors() {
    let env = Env::sqlite();
    for scale in ["0", "2.5"] {
        let o = env
            .bare()
            .args(["demo", "--database", "d.db", "--addr", "127.0.0.1:0"])
            .arg(format!("--scale={scale}"))
            .fails();
        assert!(o.stderr.contains("--scale"), "{o}");
    }
    assert!(
        !env.path("d.db").exists(),
        "nothing created before the flags are checked"
    );
    env.bare().args(["demo", "--seed", "x"]).usage_error();
    env.bare()
        .args(["demo", "--as-of", "2026-02-30"])
        .usage_error();
}

#[test]
fn a_demo_of_2022_serves_with_its_infants_now_aged_out() {
    let env = Env::sqlite();
    let server = env
        .cmd()
        .args([
            "demo",
            "--scale",
            "0.001",
            "--seed",
            "4",
            "--as-of",
            "2022-12-31",
            "--addr",
            "127.0.0.1:0",
        ])
        .serve();
    assert!(
        server
            .printed
            .iter()
            .any(|l| l.starts_with("demo city loaded")),
        "{}",
        server.log()
    );
    let page = server.get("/console/login", &[]);
    assert_eq!(page.status, 200);
    // The insurance register loads once the demo serves (in one transaction).
    let insured = (0..240).any(|_| {
        let rows = env.export_csv("insurance", &[]).1;
        !rows.is_empty() || {
            std::thread::sleep(std::time::Duration::from_millis(250));
            false
        }
    });
    assert!(
        insured,
        "the insurance register was not loaded: {}",
        server.log()
    );
    server.stop();
    // Every infant was under three at the end of 2022 and is over three
    // today: kept on the register (超龄), with those who died under one.
    let infants = env.export_csv("infants", &["--lang", "en"]);
    assert!(!infants.1.is_empty());
    let (born, status) = (
        column(&infants, &["birth_date"]),
        column(&infants, &["status"]),
    );
    let end2022 = chrono::NaiveDate::from_ymd_opt(2022, 12, 31).expect("date");
    for r in &infants.1 {
        let b: chrono::NaiveDate = r[born].parse().expect("birth date");
        assert!(end2022.years_since(b).is_some_and(|a| a < 3), "{b}");
    }
    assert!(
        infants
            .1
            .iter()
            .all(|r| r[status] == "active" || r[status] == "deceased"),
        "{:?}",
        infants.1
    );
}
