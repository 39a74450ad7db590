//! Random edit sequences over the environment files, as a person makes them all day: apps
//! added, removed, renamed and changed, calls between them, teams, settings, a value set in
//! an environment over its base and taken back, environments added and removed. What the
//! incremental render's equivalence tests apply, one edit at a time.
//!
//! The files are edited as YAML values and written back whole, so every edit is a well-formed
//! file; many edits give environments the model refuses (a team removed that an app still
//! names), which a render must refuse the same way incrementally.

use std::collections::BTreeMap;

use platform::EnvironmentFile;
use serde_yaml::{Mapping, Value};

/// The environment files being edited, with the random source that picks each edit.
#[derive(Debug)]
pub struct Editor {
    state: u64,
    files: BTreeMap<String, Value>,
    serial: usize,
}

impl Editor {
    /// Starts from `files` (paths `environments/<name>.yaml`), seeded: the same seed gives the
    /// same sequence.
    pub fn new(seed: u64, files: &[EnvironmentFile]) -> Self {
        let files = files
            .iter()
            .map(|file| {
                let value = serde_yaml::from_str(&file.contents)
                    .unwrap_or_else(|e| panic!("{}: {e}", file.path));
                (file.path.clone(), value)
            })
            .collect();
        Self {
            state: seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1,
            files,
            serial: 0,
        }
    }

    /// Sets `argocd.hydrate: false` wherever it is set: renders that need no Helm.
    pub fn without_hydration(mut self) -> Self {
        for value in self.files.values_mut() {
            if let Some(argocd) = value.get_mut("argocd").and_then(Value::as_mapping_mut)
                && argocd.contains_key("hydrate")
            {
                argocd.insert("hydrate".into(), false.into());
            }
        }
        self
    }

    /// The files as they are now.
    pub fn files(&self) -> Vec<EnvironmentFile> {
        self.files
            .iter()
            .map(|(path, value)| EnvironmentFile {
                path: path.clone(),
                contents: serde_yaml::to_string(value).expect("YAML values serialize"),
            })
            .collect()
    }

    /// Applies one random edit; says what it did.
    pub fn edit(&mut self) -> String {
        loop {
            let done = match self.below(14) {
                0 | 1 => self.add_app(),
                2 => self.remove_app(),
                3 => self.rename_app(),
                4 => self.retag_app(),
                5 => self.resize_app(),
                6 => self.add_call(),
                7 => self.remove_calls(),
                8 => self.add_team(),
                9 => self.remove_team(),
                10 => self.move_app_to_another_team(),
                11 => self.toggle_setting(),
                12 => self.toggle_override(),
                _ => self.toggle_environment(),
            };
            if let Some(done) = done {
                return done;
            }
        }
    }

    /// Moves one app's image to another tag: an edit no chart's values read.
    pub fn retag_an_app(&mut self) -> Option<String> {
        self.retag_app()
    }

    /// xorshift64*: enough randomness for picking edits, and no dependency.
    fn next(&mut self) -> u64 {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        self.state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn base(&mut self) -> &mut Mapping {
        self.files
            .get_mut("environments/base.yaml")
            .and_then(Value::as_mapping_mut)
            .expect("environments/base.yaml is a mapping")
    }

    fn apps(&mut self) -> &mut Vec<Value> {
        self.base()
            .entry("apps".into())
            .or_insert_with(|| Value::Sequence(Vec::new()))
            .as_sequence_mut()
            .expect("apps is a list")
    }

    fn teams(&mut self) -> Vec<String> {
        let teams = self.base().get("teams").and_then(Value::as_sequence);
        teams
            .into_iter()
            .flatten()
            .filter_map(|team| team.get("name")?.as_str().map(str::to_owned))
            .collect()
    }

    fn pick_app(&mut self) -> Option<usize> {
        let count = self.apps().len();
        (count > 0).then(|| self.below(count))
    }

    fn app_name(&mut self, index: usize) -> String {
        self.apps()[index]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    fn add_app(&mut self) -> Option<String> {
        self.serial += 1;
        let name = format!("edit-app-{}", self.serial);
        let teams = self.teams();
        let team = teams[self.below(teams.len())].clone();
        let app: Value = serde_yaml::from_str(&format!(
            "name: {name}\nteam: {team}\nimage: ghcr.io/example-org/{name}:1.0.0\nport: 8080\n\
             resources:\n  requests: {{cpu: 50m, memory: 64Mi}}\n  limits: {{cpu: 200m, memory: 128Mi}}\n\
             secrets:\n  - name: db\n    vault_path: secret/{name}/db\n    keys: [username, password]\n"
        ))
        .expect("the app is YAML");
        let count = self.apps().len();
        let at = self.below(count + 1);
        self.apps().insert(at, app);
        Some(format!("added app {name} of team {team}"))
    }

    fn remove_app(&mut self) -> Option<String> {
        let index = self.pick_app()?;
        let name = self.app_name(index);
        self.apps().remove(index);
        self.forget_calls_to(&name);
        Some(format!("removed app {name}"))
    }

    /// Removes every call to `name`, as a person removing or moving an app would.
    fn forget_calls_to(&mut self, name: &str) {
        for app in self.apps().iter_mut() {
            let Some(app) = app.as_mapping_mut() else {
                continue;
            };
            if let Some(calls) = app.get_mut("calls").and_then(Value::as_sequence_mut) {
                calls.retain(|call| call["app"].as_str() != Some(name));
                if calls.is_empty() {
                    app.remove("calls");
                }
            }
        }
    }

    fn rename_app(&mut self) -> Option<String> {
        let index = self.pick_app()?;
        let old = self.app_name(index);
        self.serial += 1;
        let new = format!("renamed-{}", self.serial);
        let app = &mut self.apps()[index];
        app["name"] = new.clone().into();
        if let Some(secrets) = app.get_mut("secrets").and_then(Value::as_sequence_mut) {
            for secret in secrets {
                if let Some(path) = secret["vault_path"].as_str() {
                    secret["vault_path"] = path.replace(&old, &new).into();
                }
            }
        }
        for other in self.apps().iter_mut() {
            if let Some(calls) = other.get_mut("calls").and_then(Value::as_sequence_mut) {
                for call in calls {
                    if call["app"].as_str() == Some(old.as_str()) {
                        call["app"] = new.clone().into();
                    }
                }
            }
        }
        Some(format!("renamed app {old} to {new}"))
    }

    fn retag_app(&mut self) -> Option<String> {
        let index = self.pick_app()?;
        self.serial += 1;
        let tag = format!("1.{}.0", self.serial);
        let app = &mut self.apps()[index];
        let image = app["image"].as_str()?.to_owned();
        let (repository, _) = image.rsplit_once(':')?;
        app["image"] = format!("{repository}:{tag}").into();
        Some(format!("moved {image} to {tag}"))
    }

    fn resize_app(&mut self) -> Option<String> {
        let index = self.pick_app()?;
        let cpu = format!("{}m", 50 + 10 * self.below(10));
        let name = self.app_name(index);
        let app = &mut self.apps()[index];
        app.get_mut("resources")?.get_mut("requests")?["cpu"] = cpu.clone().into();
        Some(format!("requested {cpu} for {name}"))
    }

    fn add_call(&mut self) -> Option<String> {
        let from = self.pick_app()?;
        let to = self.pick_app()?;
        // Within a team: a call across teams needs the callee's consent, another edit.
        let apps = self.apps();
        if from == to || apps[from]["team"] != apps[to]["team"] {
            return None;
        }
        let callee = self.app_name(to);
        let port = self.apps()[to]["port"].clone();
        let call: Value = serde_yaml::from_str(&format!("{{app: {callee}, port: {}}}", 8080))
            .expect("the call is YAML");
        let mut call = call;
        call["port"] = port;
        let caller = self.app_name(from);
        let app = self.apps()[from].as_mapping_mut()?;
        let calls = app
            .entry("calls".into())
            .or_insert_with(|| Value::Sequence(Vec::new()))
            .as_sequence_mut()?;
        if calls
            .iter()
            .any(|c| c["app"].as_str() == Some(callee.as_str()))
        {
            return None;
        }
        calls.push(call);
        Some(format!("{caller} calls {callee}"))
    }

    fn remove_calls(&mut self) -> Option<String> {
        let index = self.pick_app()?;
        let name = self.app_name(index);
        self.apps()[index].as_mapping_mut()?.remove("calls")?;
        Some(format!("{name} calls nothing"))
    }

    fn add_team(&mut self) -> Option<String> {
        self.serial += 1;
        let name = format!("team-{}", self.serial);
        let team: Value = serde_yaml::from_str(&format!(
            "{{name: {name}, cost_center: cc-{}, monthly_budget: 300}}",
            self.serial
        ))
        .expect("the team is YAML");
        self.base().get_mut("teams")?.as_sequence_mut()?.push(team);
        Some(format!("added team {name}"))
    }

    /// Removes a team this editor added and no app belongs to: the others are named
    /// elsewhere (alert routes, the platform team).
    fn remove_team(&mut self) -> Option<String> {
        let teams = self.teams();
        let name = teams[self.below(teams.len())].clone();
        let owns_an_app = self
            .apps()
            .iter()
            .any(|app| app["team"].as_str() == Some(name.as_str()));
        if !name.starts_with("team-") || owns_an_app {
            return None;
        }
        self.base()
            .get_mut("teams")?
            .as_sequence_mut()?
            .retain(|team| team["name"].as_str() != Some(name.as_str()));
        Some(format!("removed team {name}"))
    }

    fn move_app_to_another_team(&mut self) -> Option<String> {
        let index = self.pick_app()?;
        let teams = self.teams();
        let team = teams[self.below(teams.len())].clone();
        let name = self.app_name(index);
        let app = &mut self.apps()[index];
        app["team"] = team.clone().into();
        app.as_mapping_mut()?.remove("calls");
        self.forget_calls_to(&name);
        Some(format!("moved {name} to team {team}"))
    }

    /// A setting of one environment, flipped between two good values.
    fn toggle_setting(&mut self) -> Option<String> {
        let settings: [(&str, &str, &str, Value, Value); 4] = [
            ("dev", "prometheus", "retention", "7d".into(), "3d".into()),
            (
                "dev",
                "policies",
                "failure_action",
                "Audit".into(),
                "Enforce".into(),
            ),
            ("staging", "workloads", "replicas", 2.into(), 3.into()),
            ("prod", "cost", "nodes", 3.into(), 4.into()),
        ];
        let (env, section, key, one, other) = settings[self.below(settings.len())].clone();
        let file = self
            .files
            .get_mut(&format!("environments/{env}.yaml"))?
            .as_mapping_mut()?;
        let section = file
            .entry(section.into())
            .or_insert_with(|| Value::Mapping(Mapping::new()))
            .as_mapping_mut()?;
        let now = if section.get(key) == Some(&one) {
            other
        } else {
            one
        };
        section.insert(key.into(), now.clone());
        Some(format!("{env}: {key} = {now:?}"))
    }

    /// A value set in staging over what base sets, or taken back: the layering.
    fn toggle_override(&mut self) -> Option<String> {
        let file = self
            .files
            .get_mut("environments/staging.yaml")?
            .as_mapping_mut()?;
        let prometheus = file
            .entry("prometheus".into())
            .or_insert_with(|| Value::Mapping(Mapping::new()))
            .as_mapping_mut()?;
        if prometheus.remove("scrape_interval").is_some() {
            if prometheus.is_empty() {
                file.remove("prometheus");
            }
            return Some("staging: scrape_interval from base again".to_owned());
        }
        prometheus.insert("scrape_interval".into(), "30s".into());
        Some("staging: scrape_interval 30s over base".to_owned())
    }

    /// An environment extending dev added, or removed.
    fn toggle_environment(&mut self) -> Option<String> {
        let path = "environments/local.yaml".to_owned();
        if self.files.remove(&path).is_some() {
            return Some("removed environment local".to_owned());
        }
        let local: Value = serde_yaml::from_str(
            "extends: dev\ncluster: {provider: kind, name: finops-local, server: https://kubernetes.default.svc}\n\
             prometheus: {retention: 1d}\n",
        )
        .expect("the environment is YAML");
        self.files.insert(path, local);
        Some("added environment local, extending dev".to_owned())
    }
}
