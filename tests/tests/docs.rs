//! The generated documentation and Vault bootstrap agree with the manifests they describe.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Command;

use platform_docs::mermaid::{parse_flowchart, parse_sequence};
use platform_tests::{load, load_all, objects, render};
use serde_json::Value;

fn mermaid_blocks(readme: &str) -> Vec<String> {
    readme
        .split("```mermaid\n")
        .skip(1)
        .map(|block| block.split("```").next().unwrap().to_owned())
        .collect()
}

fn table_rows<'a>(readme: &'a str, header: &str) -> Vec<Vec<&'a str>> {
    let section = readme
        .split(header)
        .nth(1)
        .unwrap_or_else(|| panic!("no {header}"));
    section
        .lines()
        .skip(2)
        .take_while(|line| line.starts_with('|'))
        .map(|line| {
            line.trim_matches('|')
                .split(" | ")
                .map(|c| c.trim().trim_matches('`'))
                .collect()
        })
        .collect()
}

fn sources(app: &Value) -> Vec<&Value> {
    match app["spec"]["sources"].as_array() {
        Some(sources) => sources.iter().collect(),
        None => vec![&app["spec"]["source"]],
    }
}

#[test]
fn the_wave_table_agrees_with_the_rendered_applications() {
    for loaded in load_all() {
        let rendered = render(&loaded);
        let objects = objects(&rendered);
        let readme = &rendered.files["README.md"];
        let rows = table_rows(
            readme,
            "| Wave | Application | Namespace | Chart or path | Sync |",
        );
        let applications: BTreeMap<&str, &Value> = objects
            .iter()
            .filter(|(path, o)| {
                path.starts_with("apps/")
                    && !path.contains("projects/")
                    && o["kind"] == "Application"
            })
            .map(|(_, o)| (o["metadata"]["name"].as_str().unwrap(), o))
            .collect();
        assert_eq!(
            rows.len(),
            applications.len(),
            "{}: one row per Application",
            loaded.name
        );
        for row in rows {
            let [wave, name, namespace, source, sync] = row[..] else {
                panic!("bad row {row:?}")
            };
            let app = applications[name];
            assert_eq!(
                app["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"], wave,
                "{name}"
            );
            assert_eq!(app["spec"]["destination"]["namespace"], namespace, "{name}");
            let rendered_source = sources(app)
                .iter()
                .find_map(|s| {
                    Some(format!(
                        "{} {}",
                        s["chart"].as_str()?,
                        s["targetRevision"].as_str()?
                    ))
                })
                .unwrap_or_else(|| sources(app)[0]["path"].as_str().unwrap().to_owned());
            // A hydrated chart names its chart and the folder its Application syncs.
            let source = source
                .split_once(" (hydrated: ")
                .map_or(source, |(_, folder)| folder.trim_end_matches(')'));
            assert_eq!(rendered_source, source, "{name}");
            let automated = app["spec"]["syncPolicy"]["automated"].is_object();
            assert_eq!(
                sync,
                if automated { "automated" } else { "manual" },
                "{name}"
            );
        }
    }
}

/// The top README's wave table: a wave alone holds in every environment that renders the
/// Application; `1 (dev), 3 (staging, prod)` names the environments of each wave.
#[test]
fn the_top_readmes_waves_are_the_rendered_ones() {
    let top = fs::read_to_string(platform_tests::workspace_root().join("README.md")).unwrap();
    let rows = table_rows(&top, "| wave | Application | what it deploys |");
    assert!(rows.len() > 10, "{rows:?}");
    let environments: Vec<_> = load_all()
        .iter()
        .map(|loaded| {
            let rendered = render(loaded);
            let waves: BTreeMap<String, String> = objects(&rendered)
                .into_iter()
                .filter(|(path, o)| path.starts_with("apps/") && o["kind"] == "Application")
                .filter_map(|(_, o)| {
                    let name = o["metadata"]["name"].as_str()?;
                    // A hub's Applications carry the environment's prefix.
                    let name = name
                        .strip_prefix(&format!("{}-", loaded.name))
                        .unwrap_or(name)
                        .to_owned();
                    let wave = o["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]
                        .as_str()?
                        .to_owned();
                    Some((name, wave))
                })
                .collect();
            (loaded.name.clone(), waves)
        })
        .collect();
    for row in rows {
        let (cell, name) = (row[0], row[1]);
        let mut stated: BTreeMap<&str, &str> = BTreeMap::new();
        if cell.parse::<i32>().is_ok() {
            for (env, _) in &environments {
                stated.insert(env, cell);
            }
        } else {
            for part in cell.split("), ") {
                let (wave, envs) = part
                    .trim_end_matches(')')
                    .split_once(" (")
                    .unwrap_or_else(|| panic!("{name}: wave cell `{cell}`"));
                for env in envs.split(", ") {
                    stated.insert(env, wave);
                }
            }
        }
        let mut seen = false;
        for (env, waves) in &environments {
            if let Some(wave) = waves.get(name) {
                seen = true;
                assert_eq!(
                    stated.get(env.as_str()).copied(),
                    Some(wave.as_str()),
                    "README says `{cell}` for {name}; {env} renders it at wave {wave}"
                );
            }
        }
        assert!(seen, "{name} is rendered nowhere");
    }
}

#[test]
fn port_forwards_use_the_ports_the_charts_are_given() {
    let rendered = render(&load("dev"));
    let objects = objects(&rendered);
    let values = |app: &str| {
        sources(&objects[&format!("apps/{app}.yaml")])[0]["helm"]["valuesObject"].clone()
    };
    let rows = table_rows(
        &rendered.files["README.md"],
        "| Component | Namespace | Service | Port | Reach it with | Then open |",
    );
    let commands: BTreeMap<&str, &str> = rows.iter().map(|r| (r[0], r[4])).collect();
    let vault_port = values("vault")["server"]["service"]["port"]
        .as_u64()
        .unwrap();
    assert_eq!(
        commands["vault"],
        format!("kubectl -n vault port-forward svc/vault 8200:{vault_port}")
    );
    let ui_port = values("opencost")["opencost"]["ui"]["uiPort"]
        .as_u64()
        .unwrap();
    assert_eq!(
        commands["opencost"],
        format!("kubectl -n opencost port-forward svc/opencost 9090:{ui_port}")
    );
    assert_eq!(
        commands["argocd"],
        "kubectl -n argocd port-forward svc/argocd-server 8080:443"
    );
}

#[test]
fn every_diagram_is_valid_mermaid_and_shows_the_graph() {
    for loaded in load_all() {
        let plan = platform::plan(&loaded.env).unwrap();
        let rendered = render(&loaded);
        let blocks = mermaid_blocks(&rendered.files["README.md"]);
        let flowchart = parse_flowchart(&blocks[0])
            .unwrap_or_else(|e| panic!("{}: {e}\n{}", loaded.name, blocks[0]));
        assert_eq!(flowchart.nodes.len(), plan.components.len());
        let dependencies: usize = plan
            .components
            .iter()
            .map(|c| c.component.depends_on.len())
            .sum();
        assert_eq!(flowchart.edges.len(), dependencies);
        let apps_with_secrets = loaded
            .env
            .apps
            .iter()
            .filter(|a| !a.secrets.is_empty())
            .count();
        assert_eq!(blocks.len(), 1 + apps_with_secrets);
        for block in &blocks[1..] {
            let (participants, messages) =
                parse_sequence(block).unwrap_or_else(|e| panic!("{e}\n{block}"));
            assert!(participants.contains("Vault") && participants.contains("App"));
            assert!(
                messages
                    .iter()
                    .any(|(from, to)| from == "Store" && to == "Vault")
            );
        }
    }
}

#[test]
fn seeding_commands_write_exactly_the_keys_each_external_secret_reads() {
    let loaded = load("dev");
    let rendered = render(&loaded);
    let readme = &rendered.files["README.md"];
    let mount = loaded.env.secrets.kv_mount.to_string();
    for object in objects(&rendered)
        .values()
        .filter(|o| o["kind"] == "ExternalSecret")
    {
        let data = object["spec"]["data"].as_array().unwrap();
        for item in data {
            // Each key of the Secret may come from a Vault secret of its own.
            let key = item["remoteRef"]["key"].as_str().unwrap();
            let line = readme
                .lines()
                .find(|l| l.starts_with(&format!("vault kv put {mount}/{key} ")))
                .unwrap_or_else(|| panic!("no seeding command for {key}"));
            let property = item["remoteRef"]["property"].as_str().unwrap();
            assert!(
                line.contains(&format!(" {property}=\"$")),
                "{line} lacks {property}"
            );
        }
    }
}

fn bootstrap_dir(env: &str) -> std::path::PathBuf {
    platform_tests::workspace_root().join(format!("rendered/{env}/bootstrap/vault"))
}

fn run(script: &Path, args: &[&str], envs: &[(&str, &str)]) -> String {
    let output = Command::new("bash")
        .arg(script)
        .args(args)
        .envs(envs.iter().copied())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn setup_script_dry_runs_are_stable_and_match_the_cluster_secret_store() {
    for loaded in load_all() {
        let script = bootstrap_dir(&loaded.name).join("setup.sh");
        let first = run(&script, &["--dry-run"], &[]);
        assert_eq!(first, run(&script, &["--dry-run"], &[]), "{}", loaded.name);
        let objects = objects(&render(&loaded));
        let store = &objects["manifests/vault-config/clustersecretstore-vault-backend.yaml"];
        let vault = &store["spec"]["provider"]["vault"];
        let auth = &vault["auth"]["kubernetes"];
        let (mount, auth_mount, role) = (
            vault["path"].as_str().unwrap(),
            auth["mountPath"].as_str().unwrap(),
            auth["role"].as_str().unwrap(),
        );
        let account = &auth["serviceAccountRef"];
        let policy = loaded.env.secrets.policy.as_str();
        let mut expected = vec![
            format!("vault secrets enable -path={mount} -version=2 kv"),
            format!("vault auth enable -path={auth_mount} kubernetes"),
            format!("vault write auth/{auth_mount}/config kubernetes_host="),
            format!("vault policy write {policy} "),
            format!(
                "vault write auth/{auth_mount}/role/{role} bound_service_account_names={} bound_service_account_namespaces={} policies={policy} ttl=1h",
                account["name"].as_str().unwrap(),
                account["namespace"].as_str().unwrap()
            ),
        ];
        // Each team's store logs in as its own role, which the script writes with the
        // namespaces the store admits and the service account it names.
        for (path, team_store) in &objects {
            if !(path.starts_with("manifests/tenant-") && path.contains("/clustersecretstore-")) {
                continue;
            }
            let auth = &team_store["spec"]["provider"]["vault"]["auth"]["kubernetes"];
            let role = auth["role"].as_str().unwrap();
            let namespaces: Vec<&str> = team_store["spec"]["conditions"][0]["namespaces"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n.as_str().unwrap())
                .collect();
            expected.push(format!("vault policy write {role} "));
            expected.push(format!(
                "vault write auth/{auth_mount}/role/{role} bound_service_account_names={} bound_service_account_namespaces={} policies={role} ttl=1h",
                auth["serviceAccountRef"]["name"].as_str().unwrap(),
                namespaces.join(",")
            ));
        }
        let lines: Vec<&str> = first.lines().collect();
        assert_eq!(lines.len(), expected.len(), "{first}");
        for (line, expected) in lines.iter().zip(&expected) {
            assert!(
                line.starts_with(expected.as_str()),
                "{line:?} is not {expected:?}"
            );
        }
        let policy_text =
            fs::read_to_string(bootstrap_dir(&loaded.name).join(format!("{policy}.hcl"))).unwrap();
        // ESO reads `<mount>/data/<key>` and lists `<mount>/metadata/`; nothing else.
        let paths: Vec<&str> = policy_text
            .lines()
            .filter_map(|l| l.strip_prefix("path \""))
            .collect();
        assert_eq!(
            paths[..2],
            [
                format!("{mount}/data/*\" {{"),
                format!("{mount}/metadata/*\" {{")
            ],
            "{policy_text}"
        );
        // Beyond the two globs, only the teams' own paths, each denied.
        let denied = policy_text.matches("capabilities = [\"deny\"]").count();
        assert_eq!(paths.len(), 2 + denied, "{policy_text}");
        assert!(policy_text.contains(&format!(
            "path \"{mount}/data/*\" {{\n  capabilities = [\"read\"]\n}}"
        )));
        assert!(policy_text.contains(&format!(
            "path \"{mount}/metadata/*\" {{\n  capabilities = [\"read\", \"list\"]\n}}"
        )));
    }
}

#[test]
fn setup_script_is_idempotent_against_a_vault_that_remembers() {
    let dir = std::env::temp_dir().join(format!("fake-vault-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    let log = dir.join("calls.log");
    fs::write(
        dir.join("vault"),
        "#!/bin/sh\necho \"vault $*\" >> \"$FAKE_VAULT_LOG\"\ncase \"$1 $2\" in\n\
         \"secrets list\") if [ -f \"$FAKE_VAULT_LOG.kv\" ]; then echo '{\"secret/\": {}}'; else echo '{\"sys/\": {}}'; fi ;;\n\
         \"auth list\") if [ -f \"$FAKE_VAULT_LOG.auth\" ]; then echo '{\"kubernetes/\": {}}'; else echo '{\"token/\": {}}'; fi ;;\n\
         \"secrets enable\") touch \"$FAKE_VAULT_LOG.kv\" ;;\n\"auth enable\") touch \"$FAKE_VAULT_LOG.auth\" ;;\n\
         \"list -format=json\") case \"$3\" in\n\
           auth/kubernetes/role) printf '[\\n  \"external-secrets-role\",\\n  \"team-finops\",\\n  \"team-gone\"\\n]\\n' ;;\n\
           sys/policies/acl) printf '[\\n  \"default\",\\n  \"eso-policy\",\\n  \"root\",\\n  \"team-finops\",\\n  \"team-gone\"\\n]\\n' ;;\n\
         esac ;;\nesac\n",
    )
    .unwrap();
    Command::new("chmod")
        .arg("+x")
        .arg(dir.join("vault"))
        .status()
        .unwrap();
    let path = format!("{}:{}", dir.display(), std::env::var("PATH").unwrap());
    let envs = [
        ("PATH", path.as_str()),
        ("FAKE_VAULT_LOG", log.to_str().unwrap()),
        ("VAULT_ADDR", "http://127.0.0.1:8200"),
        ("VAULT_TOKEN", "test-token"),
    ];
    let script = bootstrap_dir("dev").join("setup.sh");
    let quiet = run(&script, &[], &envs);
    assert!(!quiet.contains("test-token"), "the token is never printed");
    let first = fs::read_to_string(&log).unwrap();
    run(&script, &[], &envs);
    let both = fs::read_to_string(&log).unwrap();
    let second = &both[first.len()..];
    let _ = fs::remove_dir_all(&dir);
    assert!(first.contains("vault secrets enable") && first.contains("vault auth enable"));
    assert!(
        !second.contains("enable"),
        "a second run enables nothing:\n{second}"
    );
    assert!(
        second.contains("vault write auth/kubernetes/role/external-secrets-role"),
        "and rewrites the role:\n{second}"
    );
    // What a removed team left behind goes; what is declared, and Vault's own, stays.
    for run in [first.as_str(), second] {
        assert!(
            run.contains("vault delete auth/kubernetes/role/team-gone\n"),
            "{run}"
        );
        assert!(run.contains("vault policy delete team-gone\n"), "{run}");
        assert_eq!(run.matches("delete").count(), 2, "{run}");
    }
}

#[test]
fn setup_script_passes_shellcheck_where_it_is_installed() {
    for loaded in load_all() {
        let script = fs::read_to_string(bootstrap_dir(&loaded.name).join("setup.sh")).unwrap();
        if let Some(findings) = shellcheck(&script) {
            assert!(findings.is_empty(), "{}: {findings}", loaded.name);
        }
    }
}

#[test]
fn only_dev_mode_vault_configures_itself_with_a_hook() {
    let mut hooks = 0;
    for loaded in load_all() {
        let rendered = render(&loaded);
        let objects = objects(&rendered);
        let job = objects.get("manifests/vault/job-vault-bootstrap.yaml");
        let dev_mode = loaded.env.vault.mode == platform_core::model::VaultMode::Dev;
        assert_eq!(job.is_some(), dev_mode, "{}", loaded.name);
        let Some(job) = job else { continue };
        hooks += 1;
        assert_eq!(
            job["metadata"]["annotations"]["argocd.argoproj.io/hook"],
            "PostSync"
        );
        let pod = &job["spec"]["template"]["spec"];
        let container = &pod["containers"][0];
        let env = container["env"].as_array().unwrap();
        assert!(
            env.iter().all(|e| e["name"] != "VAULT_TOKEN"),
            "the token is never in the environment, let alone in Git"
        );
        // The script reads the token from the file the Secret is mounted as.
        let token_file = env
            .iter()
            .find(|e| e["name"] == "VAULT_TOKEN_FILE")
            .and_then(|e| e["value"].as_str())
            .unwrap();
        let (dir, key) = token_file.rsplit_once('/').unwrap();
        let mount = container["volumeMounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["mountPath"] == dir)
            .unwrap();
        let volume = pod["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == mount["name"])
            .unwrap();
        assert_eq!(volume["secret"]["secretName"], "vault-bootstrap-token");
        assert_eq!(volume["secret"]["items"][0]["path"], key);
        assert!(
            rendered.files["bootstrap/vault/setup.sh"]
                .contains("VAULT_TOKEN=\"$(cat \"${VAULT_TOKEN_FILE}\")\""),
            "the script reads VAULT_TOKEN_FILE"
        );
        let config = &objects["manifests/vault/configmap-vault-bootstrap.yaml"];
        assert_eq!(
            config["data"]["setup.sh"].as_str().unwrap(),
            &*rendered.files["bootstrap/vault/setup.sh"],
            "the hook runs exactly the committed script"
        );
    }
    assert_eq!(hooks, 1, "dev runs Vault in dev mode, with the hook");
}

fn shell_blocks(readme: &str) -> Vec<String> {
    readme
        .split("```sh\n")
        .skip(1)
        .map(|block| block.split("```").next().unwrap().to_owned())
        .collect()
}

/// shellcheck's findings on a script, when shellcheck is installed. `.ci/run` installs it and
/// sets `CI`, so there a missing shellcheck fails the test instead of skipping it.
fn shellcheck(script: &str) -> Option<String> {
    let output = platform_tests::run_tool("shellcheck", &["--shell=bash", "-"], script)?;
    Some(if output.status.success() {
        String::new()
    } else {
        String::from_utf8_lossy(&output.stdout).into_owned()
    })
}

#[test]
fn seeding_commands_never_overwrite_a_shell_variable_and_pass_shellcheck() {
    for base in load_all() {
        let mut loaded = base.clone();
        // Keys a person may well choose, whose upper-case names the shell itself uses.
        loaded.env.apps[0].secrets[0].keys = ["path", "home", "ifs", "ps1", "api-key", "api_key"]
            .map(str::to_owned)
            .to_vec();
        let readme = &render(&loaded).files["README.md"];
        let blocks = shell_blocks(readme);
        let seeding = blocks
            .iter()
            .find(|b| b.contains("vault kv put"))
            .unwrap_or_else(|| panic!("{}: no seeding block", loaded.name));

        let assigned: Vec<&str> = seeding
            .lines()
            .filter_map(|l| l.strip_prefix("read -rsp '"))
            .map(|l| l.rsplit("' ").next().unwrap().split(' ').next().unwrap())
            .collect();
        assert!(assigned.contains(&"VAULT_TOKEN") || seeding.contains("export VAULT_TOKEN=root"));
        // The app's secret's keys; the platform's own secrets (Grafana's login) follow.
        let prompt = format!("read -rsp '{} ", loaded.env.apps[0].secrets[0].name);
        let values: Vec<&str> = seeding
            .lines()
            .filter(|l| l.starts_with(&prompt))
            .map(|l| l.rsplit("' ").next().unwrap().split(' ').next().unwrap())
            .collect();
        assert_eq!(
            values,
            [
                "SEED_PATH",
                "SEED_HOME",
                "SEED_IFS",
                "SEED_PS1",
                "SEED_API_KEY",
                "SEED_API_KEY_2"
            ],
            "{}: {seeding}",
            loaded.name
        );
        assert!(
            seeding.contains(
                "unset SEED_PATH SEED_HOME SEED_IFS SEED_PS1 SEED_API_KEY SEED_API_KEY_2"
            )
        );
        assert!(seeding.contains("export VAULT_ADDR="));

        for block in &blocks {
            if let Some(findings) = shellcheck(block) {
                assert!(findings.is_empty(), "{}: {block}\n{findings}", loaded.name);
            }
        }
    }
}

#[test]
fn bootstrap_steps_are_complete_and_every_path_is_from_the_repository_root() {
    for loaded in load_all() {
        let readme = &render(&loaded).files["README.md"];
        let steps = readme.split("## Bootstrap").nth(1).unwrap();
        let env = &loaded.env;
        assert!(
            steps.contains(&format!(
                "push the repository, `rendered/`\n   included, to {}",
                env.git.repo_url
            )),
            "{}",
            loaded.name
        );
        assert!(
            steps.contains("argocd-initial-admin-secret"),
            "{}: no admin password step",
            loaded.name
        );
        if env.uses_metallb() {
            assert!(
                steps.contains("docker network inspect kind"),
                "{}",
                loaded.name
            );
            for range in &env.metallb.addresses {
                assert!(steps.contains(range.as_str()), "{}: {range}", loaded.name);
            }
        }
        assert!(
            !steps.contains("<name>"),
            "{}: an unfilled placeholder",
            loaded.name
        );
        let objects = objects(&render(&loaded));
        let manual: Vec<&Value> = objects
            .iter()
            .filter(|(path, o)| {
                path.starts_with("apps/")
                    && o["kind"] == "Application"
                    && o["spec"]["syncPolicy"]["automated"].is_null()
            })
            .map(|(_, o)| o)
            .collect();
        assert!(!manual.is_empty(), "{}: kyverno syncs by hand", loaded.name);
        for app in manual {
            let name = app["metadata"]["name"].as_str().unwrap();
            assert!(
                steps.contains(&format!("`argocd app sync {name}`")),
                "{}: {name}",
                loaded.name
            );
            // The controller takes sync options from the operation alone: a patch that starts
            // a sync must carry exactly the Application's own.
            let patch = steps
                .lines()
                .find(|l| l.contains(&format!("patch application {name} ")))
                .unwrap_or_else(|| panic!("{}: no kubectl command syncs {name}", loaded.name));
            let operation = patch_body(patch);
            assert_eq!(
                operation["operation"]["sync"]["syncOptions"],
                app["spec"]["syncPolicy"]["syncOptions"],
                "{}: {name}",
                loaded.name
            );
        }
        for path in readme
            .split('`')
            .filter(|s| s.contains("bootstrap/") && !s.contains(' '))
        {
            assert!(
                path.starts_with(&format!("rendered/{}/bootstrap/", loaded.name)),
                "{}: `{path}` is not a path from the repository root",
                loaded.name
            );
        }
    }
}

/// The JSON a `kubectl patch ... -p '<json>'` line sends.
fn patch_body(line: &str) -> Value {
    serde_json::from_str(
        line.split("-p '")
            .nth(1)
            .unwrap()
            .split('\'')
            .next()
            .unwrap(),
    )
    .unwrap()
}

#[test]
fn the_top_readme_starts_kyverno_s_sync_as_the_generated_readme_does() {
    let top = fs::read_to_string(platform_tests::workspace_root().join("README.md")).unwrap();
    let dev = render(&load("dev")).files["README.md"].clone();
    let shown = top
        .lines()
        .find(|l| l.contains("-p '{\"operation\""))
        .expect("a patch command");
    let generated = dev
        .lines()
        .find(|l| l.contains("patch application kyverno"))
        .expect("a generated patch command");
    assert_eq!(patch_body(shown), patch_body(generated));
}

#[test]
fn remote_vault_is_configured_before_the_wave_that_needs_it() {
    let mut checked = 0;
    for loaded in load_all() {
        if loaded.env.vault.mode == platform_core::model::VaultMode::Dev {
            continue;
        }
        let readme = &render(&loaded).files["README.md"];
        let steps = readme.split("## Bootstrap").nth(1).unwrap();
        let at = |text: &str| {
            steps
                .find(text)
                .unwrap_or_else(|| panic!("{}: no `{text}` in the steps", loaded.name))
        };
        let root = at("kubectl apply -f");
        let unseal = at("vault operator unseal");
        let setup = at("/bootstrap/vault/setup.sh");
        let kyverno = at("argocd app sync ");
        let seed = at("Seed the apps' secrets");
        assert!(
            root < unseal && unseal < setup && setup < kyverno && kyverno < seed,
            "{}",
            loaded.name
        );
        assert!(steps.contains("When a wave does not become healthy"));
        checked += 1;
    }
    assert_eq!(checked, 2, "staging and prod");
}

#[test]
fn at_scale_the_readme_summarizes_the_apps_in_tables_instead_of_a_diagram_each() {
    let mut dev = load("dev");
    let template = dev.env.apps[0].clone();
    let count = platform_docs::DETAILED_APPS + 5;
    dev.env.apps = (0..count)
        .map(|i| {
            let mut app = template.clone();
            app.name = format!("app-{i:02}").as_str().try_into().unwrap();
            app.secrets[0].vault_path = format!("secret/app-{i:02}/db");
            app
        })
        .collect();
    let readme = render(&dev).files["README.md"].clone();
    let diagrams = readme.matches("sequenceDiagram").count();
    assert_eq!(diagrams, 1, "one example flow, not one per app");
    for i in 0..count {
        assert!(
            readme.contains(&format!(
                "| `app-{i:02}` | `app-{i:02}/finops-db-creds` | `secret/app-{i:02}/db` |"
            )),
            "app-{i:02} is missing from the secrets table"
        );
        assert!(
            readme.contains(&format!("| `app-{i:02}` | `kube-dns` (53/TCP, 53/UDP)")),
            "app-{i:02} is missing from the network table"
        );
    }
    let diagram = readme
        .split("```mermaid")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .unwrap();
    assert!(
        !diagram.contains("app-00"),
        "the component diagram draws the platform only"
    );
    assert!(diagram.contains("vault"));
    // Below the threshold, every app keeps its own diagram.
    dev.env.apps.truncate(platform_docs::DETAILED_APPS);
    let readme = render(&dev).files["README.md"].clone();
    assert_eq!(
        readme.matches("sequenceDiagram").count(),
        platform_docs::DETAILED_APPS
    );
}
