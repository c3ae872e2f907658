//! Output for people (tables, one line per problem) and for machines (JSON).

use std::fmt::Write;

use icelock_attribute::{Attributed, Attribution};
use icelock_dist::{InstalledDist, Source};
use icelock_graph::Node;
use serde::Serialize;

use crate::inspect::{CheckReport, Inspection};
use crate::model::Verdict;

#[derive(Serialize)]
struct ListJson<'a> {
    environment: EnvJson<'a>,
    packages: Vec<PackageJson<'a>>,
    /// Later copies of an installed name, never imported.
    shadowed: Vec<ShadowedJson>,
    problems: Vec<String>,
}

#[derive(Serialize)]
struct EnvJson<'a> {
    kind: icelock_env::EnvKind,
    root: &'a std::path::Path,
    python_version: Option<&'a str>,
    markers: &'a uv_pep508::MarkerEnvironment,
    markers_source: icelock_env::MarkersSource,
    site_packages: Vec<&'a std::path::Path>,
    search_path: &'a [icelock_env::SiteDir],
    interpreter: Option<&'a std::path::Path>,
    pyodide: Option<&'a icelock_env::PyodideRuntime>,
    /// What else is on the path or in the scripts folder, and who owns it.
    survey: SurveyJson<'a>,
}

#[derive(Serialize)]
struct SurveyJson<'a> {
    surveyed: &'a [icelock_survey::Surveyed],
    /// Whether `.pyc` files were compared with their sources (`lock --bytecode`); then
    /// what was not is among the packages' problems.
    bytecode_checked: bool,
    unowned: Vec<UnownedJson<'a>>,
    owned_by_rule: Vec<ByRuleJson<'a>>,
    outside: &'a [icelock_survey::Outside],
}

#[derive(Serialize)]
struct UnownedJson<'a> {
    path: String,
    #[serde(flatten)]
    kind: &'a icelock_survey::UnownedKind,
    message: String,
    way_out: String,
}

#[derive(Serialize)]
struct ByRuleJson<'a> {
    path: String,
    rule: icelock_survey::Rule,
    reason: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    of: Option<&'a str>,
}

fn survey_json(survey: &icelock_survey::Survey, bytecode_checked: bool) -> SurveyJson<'_> {
    SurveyJson {
        surveyed: &survey.folders,
        bytecode_checked,
        unowned: survey
            .unowned
            .iter()
            .map(|u| UnownedJson {
                path: u.path.to_string_lossy().into_owned(),
                kind: &u.kind,
                message: u.kind.to_string(),
                way_out: u.way_out(),
            })
            .collect(),
        owned_by_rule: survey
            .by_rule
            .iter()
            .map(|b| ByRuleJson {
                path: b.path.to_string_lossy().into_owned(),
                rule: b.rule,
                reason: b.rule.reason(),
                of: b.of.as_deref(),
            })
            .collect(),
        outside: &survey.outside,
    }
}

#[derive(Serialize)]
struct PackageJson<'a> {
    name: String,
    display_name: &'a str,
    version: String,
    installer: Option<&'a str>,
    requested: bool,
    location: &'a std::path::Path,
    format: icelock_dist::DistFormat,
    source: SourceJson<'a>,
    wheel: Option<WheelJson<'a>>,
    metadata_sha256: Option<String>,
    imports: &'a [String],
    depends: Vec<String>,
    extras: Vec<String>,
    problems: Vec<String>,
}

/// What `source` holds: the environment's own word (`list`), or the proven attribution (`lock`).
#[derive(Serialize)]
#[serde(untagged)]
enum SourceJson<'a> {
    Environment(&'a Source),
    Attribution(&'a Attribution),
}

#[derive(Serialize)]
struct WheelJson<'a> {
    tags: &'a [String],
    build: Option<&'a str>,
    generator: Option<&'a str>,
}

#[derive(Serialize)]
struct ShadowedJson {
    name: String,
    version: String,
    location: String,
    by: String,
    benign: bool,
}

fn package_json<'a>(
    dist: &'a InstalledDist,
    node: &Node,
    attributed: Option<&'a Attributed>,
) -> PackageJson<'a> {
    let mut problems: Vec<String> = dist
        .problems
        .iter()
        .map(|p| format!("{} {}", dist.location.join(&p.file).display(), p.message))
        .collect();
    if let Some(a) = attributed {
        if let Attribution::Unproven { reasons, .. } = &a.attribution {
            problems.extend(reasons.iter().cloned());
        }
        problems.extend(a.problems.iter().cloned());
    }
    PackageJson {
        name: dist.name.to_string(),
        display_name: &dist.display_name,
        version: dist.version.to_string(),
        installer: dist.installer.as_deref(),
        requested: dist.requested,
        location: &dist.location,
        format: dist.format,
        source: match attributed {
            Some(a) => SourceJson::Attribution(&a.attribution),
            None => SourceJson::Environment(&dist.source),
        },
        wheel: dist.wheel.as_ref().map(|w| WheelJson {
            tags: &w.tags,
            build: w.build.as_deref(),
            generator: w.generator.as_deref(),
        }),
        metadata_sha256: dist.metadata_sha256.map(hex_encode),
        imports: &dist.imports,
        depends: node.depends.iter().map(ToString::to_string).collect(),
        extras: node.extras.iter().map(ToString::to_string).collect(),
        problems,
    }
}

fn hex_encode(bytes: [u8; 32]) -> String {
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

pub fn list_json(inspection: &Inspection) -> String {
    report_json(inspection, None, false)
}

/// The attribution report of `lock --format json`: `list --format json` with each `source`
/// replaced by what was proven; `bytecode_checked` when bytecode was compared with its sources.
pub fn lock_json(
    inspection: &Inspection,
    attributed: &[Attributed],
    bytecode_checked: bool,
) -> String {
    report_json(inspection, Some(attributed), bytecode_checked)
}

fn report_json(
    inspection: &Inspection,
    attributed: Option<&[Attributed]>,
    bytecode_checked: bool,
) -> String {
    let env = &inspection.env;
    let mut packages: Vec<PackageJson> = inspection
        .dists()
        .iter()
        .zip(&inspection.graph.nodes)
        .enumerate()
        .map(|(i, (d, n))| package_json(d, n, attributed.map(|a| &a[i])))
        .collect();
    packages.sort_by(|a, b| a.name.cmp(&b.name));
    let report = ListJson {
        environment: EnvJson {
            kind: env.kind,
            root: &env.root,
            python_version: env.python_version.as_deref(),
            markers: &env.markers,
            markers_source: env.markers_source,
            site_packages: env
                .site_packages
                .iter()
                .filter(|s| s.role != icelock_env::SiteRole::Path)
                .map(|s| s.path.as_path())
                .collect(),
            search_path: &env.site_packages,
            interpreter: env.interpreter.as_deref(),
            pyodide: env.pyodide.as_ref(),
            survey: survey_json(&inspection.survey, bytecode_checked),
        },
        packages,
        shadowed: inspection
            .inventory
            .shadowed
            .iter()
            .map(|s| ShadowedJson {
                name: s.name.to_string(),
                version: s.version.to_string(),
                location: s.location.display().to_string(),
                by: s.by.display().to_string(),
                benign: s.benign,
            })
            .collect(),
        problems: inspection
            .inventory
            .problems
            .iter()
            .map(ToString::to_string)
            .collect(),
    };
    let mut out = serde_json::to_string_pretty(&report).expect("the report is plain data");
    out.push('\n');
    out
}

/// Enough of a shortened location's start to tell `file:///…` from `https://host/…`.
const HEAD_MIN: usize = 8;

/// `text` in at most `width` characters, its middle replaced by `…`; its last `/` segment (a
/// file name, a folder's name) is kept whole while at least a few leading characters still fit.
fn shorten_middle(text: &str, width: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= width || width < 3 {
        return text.to_string();
    }
    let keep = width - 1;
    let segment = chars.iter().rev().take_while(|c| **c != '/').count() + 1;
    let tail = if segment < chars.len() && keep >= segment + HEAD_MIN {
        segment
    } else {
        keep / 2
    };
    let head = keep - tail;
    let mut out: String = chars[..head].iter().collect();
    out.push('…');
    out.extend(&chars[chars.len() - tail..]);
    out
}

/// `text` in at most `width` characters, its end replaced by `…`.
fn shorten_end(text: &str, width: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= width || width < 2 {
        return text.to_string();
    }
    let mut out: String = chars[..width - 1].iter().collect();
    out.push('…');
    out
}

/// The origin in a few words, for the table: a kind (`url`, `git`, `editable`…), the location,
/// and a short hash or commit. Shortening cuts the location only, and drops the hint after it
/// before the location's own file name would go.
struct SourceCell {
    kind: String,
    location: String,
    hint: String,
}

impl SourceCell {
    fn plain(kind: &str) -> Self {
        Self {
            kind: kind.into(),
            location: String::new(),
            hint: String::new(),
        }
    }

    fn at(kind: &str, location: impl Into<String>, hint: String) -> Self {
        Self {
            kind: kind.into(),
            location: location.into(),
            hint,
        }
    }

    /// The narrowest this cell gets with its location's file name whole (the cell itself when
    /// it is narrower).
    fn name_width(&self) -> usize {
        let whole = self.fitted(usize::MAX).chars().count();
        let name = self.location.rsplit('/').next().unwrap_or_default();
        if self.location.is_empty() || name.len() == self.location.len() {
            return whole;
        }
        whole.min(self.kind.chars().count() + 1 + HEAD_MIN + 2 + name.chars().count())
    }

    fn fitted(&self, width: usize) -> String {
        let join = |location: &str, hint: &str| {
            if location.is_empty() {
                format!("{}{hint}", self.kind)
            } else {
                format!("{} {location}{hint}", self.kind)
            }
        };
        let whole = join(&self.location, &self.hint);
        let room =
            |hint: &str| width.saturating_sub(self.kind.chars().count() + 1 + hint.chars().count());
        if whole.chars().count() <= width || self.location.is_empty() {
            return whole;
        }
        let name = self.location.rsplit('/').next().unwrap_or_default();
        // The name, its `/`, the `…` and a start: what shorten_middle needs to keep the name.
        let hint = if room(&self.hint) >= name.chars().count() + 2 + HEAD_MIN {
            self.hint.as_str()
        } else {
            ""
        };
        let fitted = join(&shorten_middle(&self.location, room(hint)), hint);
        if fitted.chars().count() <= width {
            fitted
        } else {
            shorten_middle(&whole, width)
        }
    }
}

fn source_summary(source: &Source) -> SourceCell {
    match source {
        Source::Index => SourceCell::plain("index"),
        Source::Url { url, hash, .. } => SourceCell::at(
            "url",
            url,
            hash.as_ref()
                .map(|h| format!(" ({})", short_hash(h)))
                .unwrap_or_default(),
        ),
        Source::Vcs {
            url,
            vcs,
            commit_id,
            ..
        } => SourceCell::at(
            vcs,
            url,
            commit_id
                .as_ref()
                .map(|c| format!("@{}", &c[..c.len().min(12)]))
                .unwrap_or_default(),
        ),
        Source::Directory { url, path, .. } => {
            SourceCell::at("directory", shown(url, path), String::new())
        }
        Source::Editable { url, path } => {
            SourceCell::at("editable", shown(url, path), String::new())
        }
        Source::Micropip { url, .. } => SourceCell::at("micropip", url, String::new()),
        Source::Pyodide { channel } => SourceCell::at("pyodide", "", format!(" ({channel})")),
        Source::EggInfo => SourceCell::plain("egg-info (unverifiable)"),
    }
}

fn shown(url: &str, path: &Option<std::path::PathBuf>) -> String {
    path.as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| url.to_string())
}

fn short_hash(hash: &str) -> String {
    match hash.split_once('=') {
        Some((alg, hex)) => format!("{alg}:{}…", &hex[..hex.len().min(12)]),
        None => hash.to_string(),
    }
}

/// The table of `list`, fitted to `width` columns where given: the Source column is shortened
/// in the middle first (a URL's host and file name stay), then Imports at its end; `None`
/// keeps every value whole.
pub fn list_table(inspection: &Inspection, width: Option<usize>) -> String {
    let mut dists: Vec<&InstalledDist> = inspection.dists().iter().collect();
    dists.sort_by_key(|d| d.display_name.to_lowercase());
    let sources: Vec<SourceCell> = dists.iter().map(|d| source_summary(&d.source)).collect();
    let mut rows: Vec<[String; 5]> = dists
        .iter()
        .zip(&sources)
        .map(|(d, source)| {
            [
                d.display_name.clone(),
                d.version.to_string(),
                d.installer.clone().unwrap_or_else(|| "-".into()),
                source.fitted(usize::MAX),
                d.imports.join(", "),
            ]
        })
        .collect();
    let header = ["Package", "Version", "Installer", "Source", "Imports"].map(String::from);
    let mut widths = header.clone().map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    if let Some(width) = width {
        let total = |w: &[usize; 5]| w.iter().sum::<usize>() + 2 * 4;
        // Columns give way in steps, each down to a floor: first the Source's hosts and
        // folders (its file names kept), then Imports to a dozen characters, then the file
        // names, then Imports to a few.
        let names_kept = sources
            .iter()
            .map(SourceCell::name_width)
            .max()
            .unwrap_or(0);
        let steps = [(3, names_kept), (4, 12), (3, 12), (4, 8)];
        for (column, floor) in steps {
            let over = total(&widths).saturating_sub(width);
            let floor = floor
                .max(header[column].chars().count())
                .min(widths[column]);
            widths[column] = widths[column].saturating_sub(over).max(floor);
        }
        for (row, source) in rows.iter_mut().zip(&sources) {
            row[3] = source.fitted(widths[3]);
            row[4] = shorten_end(&row[4], widths[4]);
        }
    }
    let mut out = String::new();
    let mut line = |cells: &[String; 5]| {
        let mut text = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            if i == 4 {
                text.push_str(cell);
            } else {
                let _ = write!(text, "{cell:<w$}  ");
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(&header);
    line(&widths.map(|w| "-".repeat(w)));
    for row in &rows {
        line(row);
    }
    let env = &inspection.env;
    let _ = writeln!(
        out,
        "\n{} distributions in {} (Python {}{})",
        rows.len(),
        env.root.display(),
        env.python_version.as_deref().unwrap_or("?"),
        if env.pyodide.is_some() {
            ", Pyodide"
        } else {
            ""
        }
    );
    for problem in &inspection.inventory.problems {
        let _ = writeln!(out, "problem: {problem}");
    }
    out
}

pub fn check_text(inspection: &Inspection, report: &CheckReport) -> String {
    let mut out = String::new();
    for p in &report.problems {
        // Messages never name their distribution; the line does (or, for what belongs to no
        // distribution, its path).
        let who = if p.package.is_empty() {
            p.path.clone().unwrap_or_default()
        } else if p.version.is_empty() {
            p.package.clone()
        } else {
            format!("{} {}", p.package, p.version)
        };
        let _ = writeln!(out, "{who}: {}", p.message);
    }
    let failures = report
        .problems
        .iter()
        .filter(|p| p.kind.is_failure())
        .count();
    out.push_str(&bytecode_line(&report.bytecode));
    let _ = writeln!(
        out,
        "{} distributions, {} files verified against RECORD, {} problem{}",
        inspection.dists().len(),
        report.files_checked,
        failures,
        if failures == 1 { "" } else { "s" }
    );
    out
}

pub fn check_json(report: &CheckReport) -> String {
    let mut out = serde_json::to_string_pretty(report).expect("the report is plain data");
    out.push('\n');
    out
}

/// For people, on stderr: what was proven and, for the rest, why not and what to do. With
/// `verdicts` (a lock file is being written), what the lock policy blocks or leaves out too.
pub fn lock_summary(
    inspection: &Inspection,
    attributed: &[Attributed],
    verdicts: Option<&[Verdict]>,
) -> String {
    let mut out = String::new();
    let proven = attributed
        .iter()
        .filter(|a| a.attribution.is_proven())
        .count();
    let _ = writeln!(
        out,
        "icelock: {proven} of {} distributions attributed",
        attributed.len()
    );
    for (i, (dist, a)) in inspection.dists().iter().zip(attributed).enumerate() {
        let verdict = verdicts.map(|v| &v[i]);
        let reasons: Vec<&String> = match (verdict, &a.attribution) {
            (Some(Verdict::Excluded), _) => {
                let _ = writeln!(
                    out,
                    "  {} {}: excluded (--exclude)",
                    dist.name, dist.version
                );
                continue;
            }
            (Some(Verdict::Blocked(reasons)), _) => reasons.iter().collect(),
            (None, Attribution::Unproven { reasons, .. }) => reasons.iter().collect(),
            (
                Some(Verdict::Lock),
                Attribution::Unproven {
                    sdist: Some(sdist), ..
                },
            ) => {
                let _ = writeln!(
                    out,
                    "  {} {}: locked as its sdist {} (--allow-sdist): building it again is not byte-reproducible",
                    dist.name, dist.version, sdist.filename
                );
                Vec::new()
            }
            _ => Vec::new(),
        };
        if !reasons.is_empty() {
            let _ = writeln!(out, "  {} {}: not lockable", dist.name, dist.version);
            for reason in reasons {
                let _ = writeln!(out, "    - {reason}");
            }
        }
        for problem in &a.problems {
            let _ = writeln!(out, "  {} {}: {problem}", dist.name, dist.version);
        }
    }
    out.push_str(&survey_summary(&inspection.survey));
    out
}

/// Said by `lock` without `--bytecode`: a `.pyc` whose header matches its source is run in its
/// place, whatever it holds, and none was compared.
pub const BYTECODE_UNCHECKED: &str = "icelock: bytecode not checked: a __pycache__ .pyc whose header matches its source is run in the source's place; compare each with its source with --bytecode (or `icelock check`, `icelock verify`)\n";

/// One line on the bytecode check, for `check` and `verify`.
fn bytecode_line(report: &crate::inspect::BytecodeReport) -> String {
    match &report.unchecked {
        Some(why) => format!("bytecode not checked: {why}\n"),
        None => format!(
            "{} .pyc file{} Python would run compared with {} source, each its source compiled\n",
            report.compared,
            if report.compared == 1 { "" } else { "s" },
            if report.compared == 1 { "its" } else { "their" }
        ),
    }
}

/// What the survey found beside the distributions, for people: what no RECORD owns (each with
/// its way out), and the source trees outside the lock.
pub fn survey_summary(survey: &icelock_survey::Survey) -> String {
    let mut out = String::new();
    if !survey.unowned.is_empty() {
        let n = survey.unowned.len();
        let _ = writeln!(
            out,
            "icelock: {n} {} on this environment's path or in its scripts folder no RECORD lists, and a lock would not rebuild {}:",
            if n == 1 { "entry" } else { "entries" },
            if n == 1 { "it" } else { "them" }
        );
        for entry in &survey.unowned {
            let _ = writeln!(out, "  {}: {}", entry.path.display(), entry.kind);
            let _ = writeln!(out, "    way out: {}", entry.way_out());
        }
    }
    if let Some(home) = &survey.base_interpreter {
        let _ = writeln!(
            out,
            "icelock: outside the lock: the base interpreter in {} and its standard library (pyvenv.cfg's home)",
            home.display()
        );
    }
    for outside in &survey.outside {
        let _ = writeln!(
            out,
            "icelock: outside the lock: {} (the source tree of {}, on the path through {}): its files are not bound",
            outside.folder.display(),
            outside.dist,
            outside.added_by.display()
        );
    }
    out
}

/// `verify`'s table: what is not `ok`, then a one-line summary.
pub fn verify_text(report: &crate::drift::Report) -> String {
    let mut out = String::new();
    let drifted: Vec<&crate::drift::PackageReport> = report
        .packages
        .iter()
        .filter(|p| p.status != crate::drift::Status::Ok)
        .collect();
    if !drifted.is_empty() {
        let versions = |p: &crate::drift::PackageReport| {
            let installed = p.installed.as_ref().map_or("-", |i| i.version.as_str());
            let locked = p
                .locked
                .as_ref()
                .and_then(|l| l.version.as_deref())
                .unwrap_or("-");
            (installed.to_string(), locked.to_string())
        };
        let widest = |f: &dyn Fn(&crate::drift::PackageReport) -> usize, least: usize| {
            drifted.iter().map(|p| f(p)).max().unwrap_or(0).max(least)
        };
        let width = widest(&|p| p.name.len(), 7);
        let iw = widest(&|p| versions(p).0.len(), 9);
        let lw = widest(&|p| versions(p).1.len(), 6);
        let _ = writeln!(
            out,
            "{:<width$}  {:<12}  {:<iw$}  {:<lw$}  why",
            "package", "status", "installed", "locked"
        );
        for p in &drifted {
            let (installed, locked) = versions(p);
            let _ = writeln!(
                out,
                "{:<width$}  {:<12}  {:<iw$}  {:<lw$}  {}",
                p.name,
                p.status.name(),
                installed,
                locked,
                p.reason.as_deref().unwrap_or("")
            );
            let shown = p.files.iter().take(5);
            for file in shown {
                let _ = writeln!(out, "{:<width$}    {file}", "");
            }
            if p.files.len() > 5 {
                let _ = writeln!(out, "{:<width$}    … and {} more", "", p.files.len() - 5);
            }
        }
        out.push('\n');
    }
    for entry in &report.entries {
        let _ = writeln!(
            out,
            "{}  {}  {}",
            entry.path,
            entry.status.name(),
            entry.reason
        );
    }
    if !report.entries.is_empty() {
        out.push('\n');
    }
    let counts: Vec<String> = report
        .summary
        .iter()
        .map(|(status, n)| format!("{n} {status}"))
        .collect();
    if let Some(bytecode) = &report.bytecode {
        out.push_str(&bytecode_line(bytecode));
    }
    let _ = writeln!(
        out,
        "{}: {} against {} ({})",
        if report.drifted() { "drift" } else { "ok" },
        counts.join(", "),
        report.lock.path.display(),
        report.lock.format
    );
    out
}

pub fn verify_json(report: &crate::drift::Report) -> String {
    let mut out = serde_json::to_string_pretty(report).expect("the report serializes");
    out.push('\n');
    out
}

/// The entries of `fresh` that differ from `current`, one line each: `+ name version` (added),
/// `- name version` (removed), `~ name old -> new` (another version or other files).
pub fn lock_changes(
    current: &icelock_lockfile::LockFile,
    fresh: &icelock_lockfile::LockFile,
) -> Vec<String> {
    use std::collections::BTreeMap;
    type Entry = (Option<String>, Vec<(Option<String>, Option<String>)>);
    let entries = |lock: &icelock_lockfile::LockFile| -> BTreeMap<String, Entry> {
        lock.packages
            .iter()
            .map(|p| {
                let mut files: Vec<(Option<String>, Option<String>)> = p
                    .artifacts
                    .iter()
                    .map(|a| (a.filename.clone(), a.sha256.clone()))
                    .collect();
                files.sort();
                (
                    p.name.to_string(),
                    (p.version.as_ref().map(ToString::to_string), files),
                )
            })
            .collect()
    };
    let (old, new) = (entries(current), entries(fresh));
    let version = |v: &Option<String>| v.clone().unwrap_or_else(|| "(no version)".into());
    let mut out = Vec::new();
    for (name, (v, files)) in &new {
        match old.get(name) {
            None => out.push(format!("+ {name} {}", version(v))),
            Some((ov, ofiles)) if ov != v => {
                out.push(format!("~ {name} {} -> {}", version(ov), version(v)))
            }
            Some((_, ofiles)) if ofiles != files => out.push(format!(
                "~ {name} {}: other files ({} -> {})",
                version(v),
                shown_files(ofiles),
                shown_files(files)
            )),
            Some(_) => {}
        }
    }
    for (name, (v, _)) in &old {
        if !new.contains_key(name) {
            out.push(format!("- {name} {}", version(v)));
        }
    }
    out
}

fn shown_files(files: &[(Option<String>, Option<String>)]) -> String {
    files
        .iter()
        .map(|(name, sha)| {
            format!(
                "{}{}",
                name.as_deref().unwrap_or("?"),
                sha.as_deref()
                    .map(|s| format!(" {}", short_hash(s)))
                    .unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const WHEEL: &str = "file:///home/someone/projects/build/dist/demo_single-1.0-py3-none-any.whl";

    fn url_cell() -> SourceCell {
        SourceCell::at("url", WHEEL, " (sha256:0123456789ab…)".into())
    }

    #[test]
    fn a_shortened_url_keeps_its_file_name() {
        for width in [50, 60, 80] {
            let cell = url_cell().fitted(width);
            assert!(cell.chars().count() <= width, "{width}: {cell}");
            assert!(cell.starts_with("url file:///"), "{width}: {cell}");
            assert!(
                cell.contains("/demo_single-1.0-py3-none-any.whl"),
                "{width}: {cell}"
            );
        }
        // Room for the hash as well only when the name is whole with it.
        assert!(url_cell().fitted(80).ends_with("(sha256:0123456789ab…)"));
        assert!(!url_cell().fitted(50).contains("sha256"));
        assert_eq!(
            url_cell().fitted(usize::MAX),
            format!("url {WHEEL} (sha256:0123456789ab…)")
        );
    }

    #[test]
    fn too_narrow_for_the_name_cuts_it_in_the_middle() {
        for width in [12, 20, 30] {
            let cell = url_cell().fitted(width);
            assert!(cell.chars().count() <= width, "{width}: {cell}");
            assert!(cell.contains('…'), "{width}: {cell}");
        }
        assert_eq!(shorten_middle("abcdefghij", 5), "ab…ij");
        assert_eq!(SourceCell::plain("index").fitted(3), "index");
    }
}
