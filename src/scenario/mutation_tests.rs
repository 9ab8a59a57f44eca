//! Property test of the whole loading pipeline (issue 12): scenario texts made by mutating the
//! bundled scenarios — values changed, types changed, keys and tables deleted, keys and tables
//! duplicated — either load or are refused with an error, never a panic, within a time bound;
//! and every one that loads runs (briefly) with every recipient accounted for.
//!
//! Deterministic: a fixed case count and a fixed seed, so a run of the suite sees the same
//! texts every time; an input it ever failed on is kept below as a regression test.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, RngSeed};
use toml_edit::{DocumentMut, Item, Value};

use super::{LoadOptions, Scenario, ScenarioFile};
use crate::engine::SimTime;
use crate::runner::{Unit, simulate};

/// Loading a few kilobytes of TOML takes milliseconds; this bound only catches a hang, with
/// room for a machine shared by several builds.
const LOAD_BOUND: Duration = Duration::from_secs(20);
/// A short run (below) simulates at most about [`RUN_EVENTS`] events: milliseconds.
const RUN_BOUND: Duration = Duration::from_secs(30);
/// Events a short run of one variant may simulate, from the run-size estimate.
const RUN_EVENTS: f64 = 20_000.0;

fn bundled() -> Vec<(PathBuf, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| {
            let t = std::fs::read_to_string(&p).unwrap();
            (p, t)
        })
        .collect();
    v.sort();
    v
}

/// One step of a path into a TOML document.
#[derive(Clone, Debug)]
enum Seg {
    Key(String),
    Index(usize),
}

/// Every key, table, array element and table-array element of the document, depth first.
fn paths(item: &Item, prefix: &mut Vec<Seg>, out: &mut Vec<Vec<Seg>>) {
    let visit = |seg: Seg, child: &Item, prefix: &mut Vec<Seg>, out: &mut Vec<Vec<Seg>>| {
        prefix.push(seg);
        out.push(prefix.clone());
        paths(child, prefix, out);
        prefix.pop();
    };
    if let Some(t) = item.as_table_like() {
        for (k, child) in t.iter() {
            visit(Seg::Key(k.to_string()), child, prefix, out);
        }
    } else if let Some(a) = item.as_array_of_tables() {
        for i in 0..a.len() {
            visit(Seg::Index(i), &item[i], prefix, out);
        }
    } else if let Some(a) = item.as_array() {
        for i in 0..a.len() {
            visit(Seg::Index(i), &item[i], prefix, out);
        }
    }
}

fn get_mut<'a>(root: &'a mut Item, path: &[Seg]) -> Option<&'a mut Item> {
    path.iter().try_fold(root, |it, s| match s {
        Seg::Key(k) => it.get_mut(k.as_str()),
        Seg::Index(i) => it.get_mut(*i),
    })
}

/// A value to put somewhere: of the same type as what it replaces or not.
#[derive(Clone, Debug)]
enum NewValue {
    /// The number there times this factor (an integer stays one when the product is whole).
    Scale(f64),
    Float(f64),
    Integer(i64),
    Str(String),
    /// One of the document's own strings (a hop, route or flow name…), by index.
    DocString(usize),
    Bool(bool),
    EmptyArray,
    /// An array of the document's strings, from index .0, .1 long.
    DocStrings(usize, usize),
    /// A distribution: `{ dist = .0, <.1> = .2 }`.
    Dist(String, String, f64),
    EmptyTable,
}

#[derive(Clone, Debug)]
enum Mutation {
    /// Multiply number `.0` of the document (modulo the count of numbers) by `.1`: a value
    /// changed within its type, the mutation most likely to still load and run.
    Scale(usize, f64),
    /// Replace the item at path number `.0` (modulo the count).
    Set(usize, NewValue),
    /// Delete the key, table or element at path number `.0`.
    Delete(usize),
    /// Repeat line `.0` (a `key = value` line or a `[table]` header) right after itself.
    DuplicateLine(usize),
    /// Append a copy of table section `.0` (its header and body) at the end of the text.
    DuplicateTable(usize),
}

fn float() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(0.0),
        Just(-1.0),
        Just(0.5),
        Just(1e305),
        Just(f64::MAX),
        Just(1.7e308),
        Just(1e-300),
        Just(5e-324),
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(1e15),
        -1e6..1e6f64,
        any::<f64>(),
    ]
}

fn factor() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(0.0),
        Just(-1.0),
        Just(1e-9),
        Just(0.001),
        Just(0.5),
        Just(0.9),
        Just(1.5),
        Just(2.0),
        Just(10.0),
        Just(1e6),
        Just(1e300),
        0.1..3.0f64,
    ]
}

fn new_value() -> impl Strategy<Value = NewValue> {
    prop_oneof![
        2 => factor().prop_map(NewValue::Scale),
        2 => float().prop_map(NewValue::Float),
        2 => prop_oneof![
            Just(0i64),
            Just(-1),
            Just(1),
            Just(i64::MAX),
            Just(i64::MIN),
            Just(4_000_000_000),
            Just(u32::MAX as i64 + 1),
            0..100_000i64,
            any::<i64>(),
        ]
        .prop_map(NewValue::Integer),
        2 => prop_oneof![
            Just(String::new()),
            Just("..".to_string()),
            Just("../x".to_string()),
            Just("a/b".to_string()),
            Just("x".repeat(300)),
            Just("auto".to_string()),
            Just("1h".to_string()),
            Just("deterministic".to_string()),
            Just("exponential".to_string()),
            Just("lognormal".to_string()),
            "[a-z_]{0,10}",
            "\\PC{0,8}",
        ]
        .prop_map(NewValue::Str),
        2 => any::<usize>().prop_map(NewValue::DocString),
        1 => any::<bool>().prop_map(NewValue::Bool),
        1 => Just(NewValue::EmptyArray),
        1 => (any::<usize>(), 0..4usize).prop_map(|(a, b)| NewValue::DocStrings(a, b)),
        2 => (
            prop_oneof![
                Just("deterministic"),
                Just("exponential"),
                Just("lognormal"),
                Just("uniform"),
                Just("erlang"),
                Just("gamma"),
                Just("pareto"),
                Just("empirical"),
                Just("nonesuch"),
            ],
            prop_oneof![
                Just("value"),
                Just("mean"),
                Just("rate_per_s"),
                Just("min"),
                Just("max"),
                Just("p50"),
                Just("sd"),
                Just("k"),
                Just("shape"),
            ],
            float()
        )
            .prop_map(|(d, k, x)| NewValue::Dist(d.into(), k.into(), x)),
        1 => Just(NewValue::EmptyTable),
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        6 => (any::<usize>(), factor()).prop_map(|(p, k)| Mutation::Scale(p, k)),
        6 => (any::<usize>(), new_value()).prop_map(|(p, v)| Mutation::Set(p, v)),
        3 => any::<usize>().prop_map(Mutation::Delete),
        1 => any::<usize>().prop_map(Mutation::DuplicateLine),
        1 => any::<usize>().prop_map(Mutation::DuplicateTable),
    ]
}

fn doc_strings(item: &Item, out: &mut Vec<String>) {
    let mut all = Vec::new();
    paths(item, &mut Vec::new(), &mut all);
    let mut root = item.clone();
    for p in &all {
        if let Some(s) = get_mut(&mut root, p).and_then(|i| i.as_str()) {
            out.push(s.to_string());
        }
        if let Some(Seg::Key(k)) = p.last() {
            out.push(k.clone());
        }
    }
}

fn to_value(v: &NewValue, old: &Item, strings: &[String]) -> Value {
    let pick = |i: usize| strings[i % strings.len()].clone();
    match v {
        NewValue::Scale(k) => match old {
            Item::Value(Value::Integer(n)) => {
                let x = *n.value() as f64 * k;
                if x.fract() == 0.0 && x.abs() < 9e18 {
                    Value::from(x as i64)
                } else {
                    Value::from(x)
                }
            }
            Item::Value(Value::Float(x)) => Value::from(x.value() * k),
            _ => Value::from(*k),
        },
        NewValue::Float(x) => Value::from(*x),
        NewValue::Integer(n) => Value::from(*n),
        NewValue::Str(s) => Value::from(s.as_str()),
        NewValue::DocString(i) => Value::from(pick(*i)),
        NewValue::Bool(b) => Value::from(*b),
        NewValue::EmptyArray => Value::Array(toml_edit::Array::new()),
        NewValue::DocStrings(i, n) => {
            let mut a = toml_edit::Array::new();
            for j in 0..*n {
                a.push(pick(i.wrapping_add(j)));
            }
            Value::Array(a)
        }
        NewValue::Dist(d, k, x) => {
            let mut t = toml_edit::InlineTable::new();
            t.insert("dist", Value::from(d.as_str()));
            t.insert(k, Value::from(*x));
            Value::InlineTable(t)
        }
        NewValue::EmptyTable => Value::InlineTable(toml_edit::InlineTable::new()),
    }
}

/// `text` with `mutations` applied: structural ones through `toml_edit`, then the textual
/// duplications (which `toml_edit` cannot represent).
fn mutate(text: &str, mutations: &[Mutation]) -> String {
    let mut doc: DocumentMut = text.parse().expect("a bundled scenario parses");
    let mut strings = Vec::new();
    doc_strings(doc.as_item(), &mut strings);
    let mut lines_ops = Vec::new();
    for m in mutations {
        let mut all = Vec::new();
        paths(doc.as_item(), &mut Vec::new(), &mut all);
        if all.is_empty() {
            break;
        }
        match m {
            Mutation::Scale(p, k) => {
                let root = doc.as_item_mut();
                let numbers: Vec<_> = all
                    .iter()
                    .filter(|p| get_mut(root, p).is_some_and(|i| i.is_integer() || i.is_float()))
                    .collect();
                if numbers.is_empty() {
                    continue;
                }
                let path = numbers[p % numbers.len()];
                if let Some(slot) = get_mut(root, path) {
                    let new = to_value(&NewValue::Scale(*k), slot, &strings);
                    *slot = Item::Value(new);
                }
            }
            Mutation::Set(p, v) => {
                let path = &all[p % all.len()];
                let (last, parent) = path.split_last().expect("paths are not empty");
                let root = doc.as_item_mut();
                let Some(parent) = get_mut(root, parent) else {
                    continue;
                };
                if parent.is_array_of_tables() {
                    continue;
                }
                let Some(slot) = get_mut(parent, std::slice::from_ref(last)) else {
                    continue;
                };
                let new = to_value(v, slot, &strings);
                *slot = Item::Value(new);
            }
            Mutation::Delete(p) => {
                let path = &all[p % all.len()];
                let (last, parent) = path.split_last().expect("paths are not empty");
                let Some(parent) = get_mut(doc.as_item_mut(), parent) else {
                    continue;
                };
                match (last, parent) {
                    (Seg::Key(k), parent) => {
                        if let Some(t) = parent.as_table_like_mut() {
                            t.remove(k);
                        }
                    }
                    (Seg::Index(i), Item::ArrayOfTables(a)) if *i < a.len() => {
                        a.remove(*i);
                    }
                    (Seg::Index(i), Item::Value(Value::Array(a))) if *i < a.len() => {
                        a.remove(*i);
                    }
                    _ => {}
                }
            }
            other => lines_ops.push(other.clone()),
        }
    }
    let mut text = doc.to_string();
    for m in lines_ops {
        let lines: Vec<&str> = text.lines().collect();
        match m {
            Mutation::DuplicateLine(i) => {
                let candidates: Vec<usize> = (0..lines.len())
                    .filter(|&j| {
                        let l = lines[j].trim_start();
                        l.starts_with('[') || (l.contains('=') && !l.starts_with('#'))
                    })
                    .collect();
                if candidates.is_empty() {
                    continue;
                }
                let j = candidates[i % candidates.len()];
                let mut out: Vec<&str> = lines[..=j].to_vec();
                out.push(lines[j]);
                out.extend_from_slice(&lines[j + 1..]);
                text = out.join("\n");
            }
            Mutation::DuplicateTable(i) => {
                let headers: Vec<usize> = (0..lines.len())
                    .filter(|&j| lines[j].trim_start().starts_with('['))
                    .collect();
                if headers.is_empty() {
                    continue;
                }
                let h = i % headers.len();
                let end = headers.get(h + 1).copied().unwrap_or(lines.len());
                let section = lines[headers[h]..end].join("\n");
                text = format!("{text}\n{section}\n");
            }
            _ => {}
        }
    }
    text
}

/// Runs `f` on a thread, failing if it panics or takes longer than `bound`.
fn bounded<T: Send + 'static>(
    what: &str,
    bound: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        let _ = tx.send(r);
    });
    match rx.recv_timeout(bound) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(p)) => {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Err(format!("{what} panicked: {msg}"))
        }
        Err(_) => Err(format!("{what} took longer than {bound:?}")),
    }
}

/// Loads `text` as if it were the file at `path` (so a trace it names is found beside it).
fn load(path: &Path, text: &str) -> Result<Result<Scenario, String>, String> {
    let file = ScenarioFile {
        path: path.to_path_buf(),
        text: text.to_string(),
    };
    bounded("loading", LOAD_BOUND, move || {
        file.build(LoadOptions::default(), &[])
            .map_err(|e| e.to_string())
    })
}

/// `scn` cut to a run of about [`RUN_EVENTS`] events per variant (at least 1 ms simulated):
/// the cut keeps every rate, route and policy, so conservation is tested on the same model.
fn shortened(mut scn: Scenario) -> Scenario {
    let mut probe = scn.clone();
    probe.run.duration = Some(SimTime::from_secs_f64(1.0));
    probe.run.max_messages = None;
    let per_s = super::budget::estimate(&probe, 1, 1).events / scn.variants.len().max(1) as f64;
    let cap_s = if per_s.is_finite() && per_s > 0.0 {
        (RUN_EVENTS / per_s).clamp(1e-3, 600.0)
    } else {
        1e-3
    };
    let cap = SimTime::from_secs_f64(cap_s);
    scn.run.duration = Some(scn.run.duration.map_or(cap, |d| d.min(cap)));
    scn.run.max_messages = scn.run.max_messages.map(|m| m.min(RUN_EVENTS as u64));
    let end = scn.run.duration.expect("set above");
    if scn.run.warmup >= end {
        scn.run.warmup = SimTime::from_nanos(end.as_nanos() / 2);
    }
    scn
}

/// Every variant's first replication of the shortened run ends with every recipient in one
/// end state.
fn conserves(scn: Scenario) -> Result<(), String> {
    let scn = shortened(scn);
    bounded("the short run", RUN_BOUND, move || {
        for vi in 0..scn.variants.len() {
            let unit = Unit {
                variant: vi,
                replication: 0,
            };
            let r = simulate(&scn, unit, scn.run.seed).map_err(|e| e.to_string())?;
            let a = r.accounting;
            let ended = a.delivered
                + a.expired
                + a.quarantined
                + a.rejected
                + a.filtered_spam
                + a.in_flight;
            if ended != a.generated {
                return Err(format!(
                    "variant {}: generated {} recipients, end states add up to {ended}",
                    scn.variants[vi].name, a.generated
                ));
            }
        }
        Ok(())
    })?
}

/// What serde or Rust would say that a person should not read: a refusal says what it found
/// and what is accepted in words.
const JARGON: &[&str] = &[
    "invalid type",
    "invalid value",
    "identifier",
    "expected f64",
    "expected u64",
    "expected u32",
    "expected usize",
    "expected i64",
    "a sequence",
    "a map",
    "struct ",
    "enum ",
    "Raw",
    "newtype",
    "unit variant",
    "tuple",
    "Option",
    "Some(",
    "None",
    "NaN",
    "inf,",
];

/// The property for one text: Ok(true) if it loaded and its run conserved, Ok(false) if it
/// was refused with one line naming the file and no Rust or serde jargon; Err on a panic, a
/// hang, a broken conservation or such a message.
fn check(path: &Path, text: &str) -> Result<bool, String> {
    match load(path, text)? {
        Ok(scn) => conserves(scn).map(|()| true),
        Err(message) => {
            let dir = path
                .parent()
                .expect("a scenario has a folder")
                .display()
                .to_string();
            if message.contains('\n') || !message.starts_with(&dir) {
                return Err(format!(
                    "a refusal is not one line naming the file: {message:?}"
                ));
            }
            if let Some(j) = JARGON.iter().find(|j| message.contains(*j)) {
                return Err(format!("a refusal says `{j}`: {message}"));
            }
            // Figures are short (u64::MAX, 20 digits, is the longest the messages quote).
            let longest = message
                .split(|c: char| !c.is_ascii_digit())
                .map(str::len)
                .max()
                .unwrap_or(0);
            if longest > 20 {
                return Err(format!(
                    "a refusal quotes a {longest}-digit figure: {message}"
                ));
            }
            Ok(false)
        }
    }
}

fn config() -> Config {
    Config {
        // About 200 texts per bundled scenario, 1–2 ms each in release: a few seconds.
        // `PROPTEST_CASES=40000` explores further (about a minute); that found nothing new.
        cases: if std::env::var_os("PROPTEST_CASES").is_some() {
            Config::default().cases
        } else {
            2000
        },
        rng_algorithm: RngAlgorithm::ChaCha,
        rng_seed: RngSeed::Fixed(12),
        failure_persistence: None,
        max_shrink_iters: 2048,
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn mutated_scenarios_load_or_are_refused_and_runs_conserve(
        which in any::<usize>(),
        muts in prop::collection::vec(mutation(), 1..4),
    ) {
        let scenarios = bundled();
        let (path, text) = &scenarios[which % scenarios.len()];
        let mutated = mutate(text, &muts);
        if let Err(e) = check(path, &mutated) {
            return Err(TestCaseError::fail(format!("{e}\n--- {}:\n{mutated}", path.display())));
        }
    }
}

/// The mutations are not vacuous: over a fixed set, some texts load and run, and some are
/// refused (a property test whose every case is refused would test nothing after loading).
#[test]
fn mutations_reach_both_outcomes() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let scenarios = bundled();
    let mut runner = TestRunner::new(config());
    let strategy = (any::<usize>(), prop::collection::vec(mutation(), 1..4));
    let (mut ok, mut refused) = (0, 0);
    for _ in 0..120 {
        let (which, muts) = strategy.new_tree(&mut runner).unwrap().current();
        let (path, text) = &scenarios[which % scenarios.len()];
        let mutated = mutate(text, &muts);
        match check(path, &mutated) {
            Ok(true) => ok += 1,
            Ok(false) => refused += 1,
            Err(e) => panic!("{e}\n{mutated}"),
        }
    }
    assert!(ok >= 10 && refused >= 10, "{ok} loaded, {refused} refused");
}

#[test]
fn duplications_and_deletions_do_what_they_say() {
    let t = "a = 1\n[b]\nc = 2\n";
    let dup = mutate(t, &[Mutation::DuplicateLine(0)]);
    assert_eq!(dup, "a = 1\na = 1\n[b]\nc = 2");
    let dup = mutate(t, &[Mutation::DuplicateTable(0)]);
    assert!(dup.ends_with("[b]\nc = 2\n"), "{dup}");
    assert_eq!(dup.matches("[b]").count(), 2);
    let del = mutate(t, &[Mutation::Delete(0)]);
    assert!(!del.contains("a = 1"), "{del}");
    let set = mutate(t, &[Mutation::Set(0, NewValue::Str("x".into()))]);
    assert!(set.contains("a = \"x\""), "{set}");
}

/// Inputs this test failed on, kept as they were found (the bundled scenario, the text
/// changed, what the refusal must now say).
#[test]
fn inputs_it_failed_on_are_refused_in_words() {
    let cases = [
        // "expected variant identifier": serde's words for the `dist` tag.
        (
            "tandem-mmc.toml",
            "{ dist = \"exponential\", rate_per_s = 60 }",
            "{ dist = 1, rate_per_s = 60 }",
            "tandem-mmc.toml:27: `hops.s2.service_ms.dist`: found the whole number 1; expected a \
             distribution name in quotes: exponential, lognormal, gamma, deterministic, uniform \
             or empirical",
        ),
        // "found the number NaN", "got NaN".
        (
            "tandem-mmc.toml",
            "servers = 2",
            "servers = nan",
            "tandem-mmc.toml:26: `hops.s2.servers`: found nan (not a number); expected",
        ),
        (
            "tandem-mmc.toml",
            "warmup_s = 60",
            "warmup_s = nan",
            "`run.warmup_s`: must be a number of 0 or more, got not a number",
        ),
        // A 300-digit figure quoted back ("found the number 1000…0").
        (
            "spam-load.toml",
            "seed = 2026",
            "seed = 1e300",
            "`run.seed`: found the number 1.000e300; expected a whole number from 0 to",
        ),
        // A burst of 3e300: thinning drew candidates at that rate; the run never ended.
        (
            "peak-day.toml",
            "multiplier = 3.0",
            "multiplier = 3e300",
            "peak-day.toml:41: `load.shape`: makes source `inbound` send 7.855e301 messages per \
             second at its busiest",
        ),
    ];
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    for (file, from, to, want) in cases {
        let path = dir.join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{file} no longer holds `{from}`");
        let mutated = text.replacen(from, to, 1);
        assert_eq!(check(&path, &mutated), Ok(false), "{file}: {to}");
        let e = load(&path, &mutated).unwrap().unwrap_err();
        assert!(e.contains(want), "{file}: {to}\n got: {e}\nwant: {want}");
    }
}
