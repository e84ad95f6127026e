//! Every kind of body the simulator serves validates against GitHub's own schemas, and
//! octocrab's models read it.

use serde_json::{Value, json};

use crate::{Env, TOKEN};

pub(crate) fn schema(name: &str) -> Value {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn bundle_def(def: &str) -> Value {
    let bundle = schema("jsonschema_bundle.json");
    json!({"$schema": "https://json-schema.org/draft/2020-12/schema", "$ref": format!("#/$defs/{def}"), "$defs": bundle["$defs"]})
}

pub(crate) fn check(what: &str, schema: &Value, instance: &Value) {
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(schema)
        .unwrap();
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .take(10)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} does not match GitHub's schema:\n{}",
        errors.join("\n")
    );
}

#[test]
fn every_response_body_matches_githubs_schemas() {
    let env = Env::repo(120, 30);
    let issues = env.get("/repos/octo/demo/issues?state=all&per_page=100");
    let list = issues.json();
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|i| i.get("pull_request").is_some()),
        "PRs are interleaved"
    );
    check(
        "issue list (with pull requests)",
        &schema("issue-list.schema.json"),
        &list,
    );
    check(
        "issue",
        &schema("issue.schema.json"),
        &env.get("/repos/octo/demo/issues/3").json(),
    );
    check(
        "milestone list",
        &schema("milestone-list.schema.json"),
        &env.get("/repos/octo/demo/milestones?state=all").json(),
    );
    check(
        "milestone",
        &schema("milestone.schema.json"),
        &env.get("/repos/octo/demo/milestones/1").json(),
    );
    check(
        "label list",
        &schema("label-list.schema.json"),
        &env.get("/repos/octo/demo/labels").json(),
    );
    check(
        "label",
        &schema("label.schema.json"),
        &env.get("/repos/octo/demo/labels/area%3A%20ui").json(),
    );
    check(
        "comment list",
        &schema("issue-comment-list.schema.json"),
        &env.get("/repos/octo/demo/issues/comments?per_page=50")
            .json(),
    );
    check(
        "issue comments",
        &schema("issue-comment-list.schema.json"),
        &env.get("/repos/octo/demo/issues/2/comments").json(),
    );
    check("user", &bundle_def("simple-user"), &env.get("/user").json());
    check(
        "repository",
        &bundle_def("repository"),
        &env.get("/repos/octo/demo").json(),
    );
    check(
        "rate limit",
        &bundle_def("rate-limit-overview"),
        &env.get("/rate_limit").json(),
    );
    check(
        "not found",
        &schema("basic-error.schema.json"),
        &env.get("/repos/octo/nope").json(),
    );

    // Relations: a sub-issue names its parent (`parent_issue_url`), as every issue object of
    // GitHub's schema may; an issue without a parent has no such key (as live).
    let child = env.get("/repos/octo/demo/issues/6").json()["id"].clone();
    let blocker = env.get("/repos/octo/demo/issues/7").json()["id"].clone();
    let added = env.send(
        "POST",
        "/repos/octo/demo/issues/5/sub_issues",
        json!({ "sub_issue_id": child }),
    );
    assert_eq!(added.status, 201);
    check(
        "parent after adding",
        &schema("issue.schema.json"),
        &added.json(),
    );
    let dep = env.send(
        "POST",
        "/repos/octo/demo/issues/6/dependencies/blocked_by",
        json!({ "issue_id": blocker }),
    );
    assert_eq!(dep.status, 201);
    let six = env.get("/repos/octo/demo/issues/6").json();
    check("sub-issue", &schema("issue.schema.json"), &six);
    assert!(
        six["parent_issue_url"]
            .as_str()
            .is_some_and(|u| u.ends_with("/repos/octo/demo/issues/5")),
        "{}",
        six["parent_issue_url"]
    );
    assert_eq!(six["issue_dependencies_summary"]["total_blocked_by"], 1);
    let five = env.get("/repos/octo/demo/issues/5").json();
    assert!(five.get("parent_issue_url").is_none());
    assert_eq!(five["sub_issues_summary"]["total"], 1);
    for (what, path) in [
        ("sub-issue list", "/repos/octo/demo/issues/5/sub_issues"),
        (
            "blocked-by list",
            "/repos/octo/demo/issues/6/dependencies/blocked_by",
        ),
        (
            "blocking list",
            "/repos/octo/demo/issues/7/dependencies/blocking",
        ),
        (
            "issue list with relations",
            "/repos/octo/demo/issues?state=all&per_page=100",
        ),
    ] {
        check(
            what,
            &schema("issue-list.schema.json"),
            &env.get(path).json(),
        );
    }

    // Writes answer with the same shapes.
    let created = env.send("POST", "/repos/octo/demo/issues", json!({"title": "new", "body": "b", "labels": ["bug", "brand-new"], "assignees": ["alice"], "milestone": 1}));
    assert_eq!(created.status, 201);
    check(
        "created issue",
        &schema("issue.schema.json"),
        &created.json(),
    );
    let comment = env.send(
        "POST",
        "/repos/octo/demo/issues/1/comments",
        json!({"body": "hi"}),
    );
    check(
        "created comment",
        &bundle_def("issue-comment"),
        &comment.json(),
    );
    let ms = env.send(
        "POST",
        "/repos/octo/demo/milestones",
        json!({"title": "v99", "due_on": "2030-01-01T00:00:00Z"}),
    );
    check(
        "created milestone",
        &schema("milestone.schema.json"),
        &ms.json(),
    );
    let bad = env.send("POST", "/repos/octo/demo/labels", json!({"name": "BUG"}));
    assert_eq!(bad.status, 422);
    check(
        "validation error",
        &schema("validation-error.schema.json"),
        &bad.json(),
    );
    let long = env.send(
        "POST",
        "/repos/octo/demo/issues/1/comments",
        json!({"body": "x".repeat(70_000)}),
    );
    assert_eq!(long.status, 422);
    check(
        "body too long",
        &schema("validation-error.schema.json"),
        &long.json(),
    );
    assert!(env.sim.lock_issue("octo", "demo", 1, true));
    let locked = env.send(
        "POST",
        "/repos/octo/demo/issues/1/comments",
        json!({"body": "hi"}),
    );
    assert_eq!(locked.status, 403);
    check(
        "locked issue",
        &schema("basic-error.schema.json"),
        &locked.json(),
    );
    let edited = env.send(
        "PATCH",
        &format!("/repos/octo/demo/issues/comments/{}", comment.json()["id"]),
        json!({"body": "edited"}),
    );
    check(
        "edited comment",
        &bundle_def("issue-comment"),
        &edited.json(),
    );
    let _ = TOKEN;
}

#[test]
fn octocrab_models_read_every_response() {
    use octocrab::models::issues::{Comment, Issue};
    use octocrab::models::{Label, Milestone, Repository};
    let env = Env::repo(60, 10);
    let issues: Vec<Issue> = serde_json::from_str(
        &env.get("/repos/octo/demo/issues?state=all&per_page=100")
            .body,
    )
    .unwrap();
    assert_eq!(issues.len(), 70);
    let _: Issue = serde_json::from_str(&env.get("/repos/octo/demo/issues/5").body).unwrap();
    let _: Vec<Milestone> =
        serde_json::from_str(&env.get("/repos/octo/demo/milestones?state=all").body).unwrap();
    let _: Vec<Label> = serde_json::from_str(&env.get("/repos/octo/demo/labels").body).unwrap();
    let _: Vec<Comment> =
        serde_json::from_str(&env.get("/repos/octo/demo/issues/comments").body).unwrap();
    let _: Repository = serde_json::from_str(&env.get("/repos/octo/demo").body).unwrap();
    let _: octocrab::models::Author = serde_json::from_str(&env.get("/user").body).unwrap();
    let _: octocrab::models::RateLimit =
        serde_json::from_str(&env.get("/rate_limit").body).unwrap();
}
