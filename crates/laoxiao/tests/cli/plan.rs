//! `laoxiao plan …`: coverage, accessibility, slots and siting over the
//! example registers, the files they write, the resident grid, and the
//! errors a user makes.

use crate::harness::Env;

fn json(stdout: &str) -> serde_json::Value {
    serde_json::from_str(stdout).expect("JSON output")
}

clitest!(
    plan_coverage_access_slots_site_and_residents,
    |env: &Env| {
        env.import_examples();
        // E0001 lives about 160 m from the care home F001 (the examples'
        // coordinates); 南湖区 has no resident figure of its own, so its few
        // registered people stand for the city's remainder: high density (500 m).
        let o = env
            .cmd()
            .args(["plan", "coverage", "--area", "330402", "--json"])
            .ok();
        let v = json(&o.stdout);
        assert_eq!(v["rule"]["code"], "institution");
        assert_eq!(v["area"]["code"], "330402");
        let t = &v["rows"][0]["total"];
        let (scope, covered, not) = (
            t["in_scope"].as_u64().expect("in scope"),
            t["covered"].as_u64().expect("covered"),
            t["not_covered"].as_u64().expect("not covered"),
        );
        assert_eq!(scope, covered + not);
        assert!(covered >= 1, "{o}");
        assert!(
            v["reading"]["people_without_point"]
                .as_u64()
                .expect("count")
                >= 1
        );
        assert_eq!(
            v["reading"]["projection"],
            "CGCS2000 / 3-degree Gauss-Kruger CM 120E (EPSG:4549)"
        );

        let (xlsx, cells, ppl) = (
            env.path("cov.xlsx"),
            env.path("cells.geojson"),
            env.path("people.csv"),
        );
        env.cmd()
            .args(["plan", "coverage", "--area", "330402", "--out"])
            .arg(&xlsx)
            .arg("--cells")
            .arg(&cells)
            .arg("--people")
            .arg(&ppl)
            .ok();
        assert!(std::fs::metadata(&xlsx).expect("xlsx").len() > 0);
        let g: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&cells).expect("geojson")).expect("GeoJSON");
        assert_eq!(g["type"], "FeatureCollection");
        let first = &g["features"][0];
        assert_eq!(first["geometry"]["type"], "Polygon");
        assert_eq!(
            first["geometry"]["coordinates"][0]
                .as_array()
                .expect("ring")
                .len(),
            5
        );
        let people = std::fs::read_to_string(&ppl).expect("people");
        let e1 = people
            .lines()
            .find(|l| l.starts_with("E0001,"))
            .expect("E0001 listed");
        assert!(e1.contains("F00") && e1.ends_with(",covered"), "{e1}");

        let acc = env.path("access.csv");
        let o = env
            .cmd()
            .args([
                "plan", "access", "--side", "beds", "--radius", "1500", "--area", "330402", "--out",
            ])
            .arg(&acc)
            .ok();
        assert!(
            o.stdout
                .contains("beds for elderly within 1500 m, decay uniform"),
            "{o}"
        );
        assert!(
            std::fs::read_to_string(&acc)
                .expect("csv")
                .contains("可达性（每千人）")
        );
        let o = env
            .cmd()
            .args(["plan", "slots", "--area", "330402", "--json"])
            .ok();
        let v = json(&o.stdout);
        assert_eq!(
            v["rows"][0]["norm_per_1000"], 4.6,
            "a county is held to 4.6"
        );

        let o = env
            .cmd()
            .args([
                "plan",
                "site",
                "--county",
                "330402",
                "--rule",
                "home_care_walk",
                "--k",
                "2",
                "--candidates",
                "centres",
                "--json",
            ])
            .ok();
        let v = json(&o.stdout);
        let sites = v["sites"].as_array().expect("sites");
        assert!(sites.len() <= 2);
        let gains: f64 = sites
            .iter()
            .map(|s| s["gain"].as_f64().expect("gain"))
            .sum();
        let before = v["covered_before"].as_f64().expect("before");
        assert_eq!(v["covered_after"].as_f64().expect("after"), before + gains);
        assert!(v["upper_bound"].as_f64().expect("bound") >= before + gains);

        // The errors a user makes.
        let o = env.cmd().args(["plan", "coverage", "--cell", "50"]).fails();
        assert!(
            o.stderr.contains("50 m is not one of 100, 250, 1000"),
            "{o}"
        );
        let o = env
            .cmd()
            .args(["plan", "coverage", "--rule", "nope"])
            .fails();
        assert!(
            o.stderr.contains("one of institution, home_care_walk"),
            "{o}"
        );
        let o = env
            .cmd()
            .args(["plan", "site", "--county", "330402", "--k", "2", "--slots"])
            .fails();
        assert!(
            o.stderr
                .contains("give one of --k N, --target SHARE and --slots"),
            "{o}"
        );
        let o = env
            .cmd()
            .args(["plan", "site", "--county", "330402007", "--k", "2"])
            .fails();
        assert!(o.stderr.contains("is not a county"), "{o}");
        let o = env
            .cmd()
            .args(["plan", "access", "--decay", "step:600=1,300=0.5"])
            .fails();
        assert!(o.stderr.contains("decay"), "{o}");

        // The resident grid: a bad row is named; a good file is loaded and cleared.
        let bad = env.write(
            "bad.csv",
            "lng,lat,residents\n120.75,30.75,10\n120.75,95,10\n",
        );
        let o = env.cmd().args(["plan", "residents"]).arg(&bad).fails();
        assert!(o.stderr.contains("row 3, column lat"), "{o}");
        let good = env.write(
            "grid.csv",
            "lng,lat,residents\n120.75,30.75,1200\n120.76,30.75,800\n",
        );
        let o = env.cmd().args(["plan", "residents"]).arg(&good).ok();
        assert!(o.stdout.contains("loaded 2 points, 2000 residents"), "{o}");
        let o = env.cmd().args(["plan", "residents"]).ok();
        assert!(o.stdout.contains("resident grid: 2 points"), "{o}");
        let o = env
            .cmd()
            .args(["plan", "coverage", "--area", "330402", "--json"])
            .ok();
        assert_eq!(json(&o.stdout)["reading"]["residents_source"], "imported");
        let o = env.cmd().args(["plan", "residents", "--clear"]).ok();
        assert!(o.stdout.contains("cleared the resident grid"), "{o}");
    }
);
