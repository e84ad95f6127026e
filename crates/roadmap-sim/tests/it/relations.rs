//! Issue dependencies and sub-issues as GitHub serves them: writes by database id, listings
//! in order, the summaries every issue carries, and GitHub's schemas for all of it.

use serde_json::{Value, json};

use crate::Env;
use crate::conformance::{check as valid, schema};

fn numbers(v: &Value) -> Vec<u64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|i| i["number"].as_u64().unwrap())
        .collect()
}

#[test]
fn dependencies_and_sub_issues_round_trip_with_their_summaries() {
    let env = Env::repo(8, 0);
    let id = |n: u64| {
        env.get(&format!("/repos/octo/demo/issues/{n}")).json()["id"]
            .as_u64()
            .unwrap()
    };
    let base = "/repos/octo/demo/issues";
    // Every issue open to begin with (the generated ones are a mix).
    for n in 1..=8 {
        let r = env.send("PATCH", &format!("{base}/{n}"), json!({"state": "open"}));
        assert_eq!(r.status, 200);
    }

    // 2 is blocked by 3 and 4 (by id, not number).
    for b in [3, 4] {
        let r = env.send(
            "POST",
            &format!("{base}/2/dependencies/blocked_by"),
            json!({"issue_id": id(b)}),
        );
        assert_eq!(r.status, 201, "{}", r.body);
        assert_eq!(r.json()["number"], b);
        assert!(r.header("location").is_some());
    }
    let again = env.send(
        "POST",
        &format!("{base}/2/dependencies/blocked_by"),
        json!({"issue_id": id(3)}),
    );
    assert_eq!(again.status, 422);
    let itself = env.send(
        "POST",
        &format!("{base}/2/dependencies/blocked_by"),
        json!({"issue_id": id(2)}),
    );
    assert_eq!(itself.status, 422);
    let nobody = env.send(
        "POST",
        &format!("{base}/2/dependencies/blocked_by"),
        json!({"issue_id": 1}),
    );
    assert_eq!(nobody.status, 404);
    let blocked_by = env.get(&format!("{base}/2/dependencies/blocked_by")).json();
    assert_eq!(numbers(&blocked_by), [3, 4]);
    valid("blocked_by", &schema("issue-list.schema.json"), &blocked_by);
    assert_eq!(
        numbers(&env.get(&format!("{base}/3/dependencies/blocking")).json()),
        [2]
    );

    // Sub-issues of 5: 6, 7, 8, then 8 moved before 6, and 7 removed.
    for s in [6, 7, 8] {
        let r = env.send(
            "POST",
            &format!("{base}/5/sub_issues"),
            json!({"sub_issue_id": id(s)}),
        );
        assert_eq!(r.status, 201, "{}", r.body);
        assert_eq!(r.json()["number"], 5, "answers with the parent");
    }
    // One parent at most, unless replaced; never an ancestor.
    let twice = env.send(
        "POST",
        &format!("{base}/1/sub_issues"),
        json!({"sub_issue_id": id(6)}),
    );
    assert_eq!(twice.status, 422);
    let up = env.send(
        "POST",
        &format!("{base}/6/sub_issues"),
        json!({"sub_issue_id": id(5)}),
    );
    assert_eq!(up.status, 422);
    let r = env.send(
        "PATCH",
        &format!("{base}/5/sub_issues/priority"),
        json!({"sub_issue_id": id(8), "before_id": id(6)}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        numbers(&env.get(&format!("{base}/5/sub_issues")).json()),
        [8, 6, 7]
    );
    let r = env.send(
        "PATCH",
        &format!("{base}/5/sub_issues/priority"),
        json!({"sub_issue_id": id(8), "after_id": id(7)}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        numbers(&env.get(&format!("{base}/5/sub_issues")).json()),
        [6, 7, 8]
    );
    let r = env.send(
        "DELETE",
        &format!("{base}/5/sub_issue"),
        json!({"sub_issue_id": id(7)}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        numbers(&env.get(&format!("{base}/5/sub_issues")).json()),
        [6, 8]
    );
    let moved = env.send(
        "POST",
        &format!("{base}/1/sub_issues"),
        json!({"sub_issue_id": id(6), "replace_parent": true}),
    );
    assert_eq!(moved.status, 201);
    assert_eq!(
        numbers(&env.get(&format!("{base}/5/sub_issues")).json()),
        [8]
    );

    // Closing 3 and 8 shows in the summaries of the issues that name them.
    for n in [3, 8] {
        assert_eq!(
            env.send("PATCH", &format!("{base}/{n}"), json!({"state": "closed"}))
                .status,
            200
        );
    }
    let list = env
        .get("/repos/octo/demo/issues?state=all&per_page=100")
        .json();
    valid("issue list", &schema("issue-list.schema.json"), &list);
    let of = |n: u64| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|i| i["number"] == n)
            .unwrap()
            .clone()
    };
    assert_eq!(
        of(2)["issue_dependencies_summary"],
        json!({"blocked_by": 1, "total_blocked_by": 2, "blocking": 0, "total_blocking": 0})
    );
    assert_eq!(of(4)["issue_dependencies_summary"]["blocking"], 1);
    assert_eq!(
        of(5)["sub_issues_summary"],
        json!({"total": 1, "completed": 1, "percent_completed": 100})
    );
    assert_eq!(of(1)["sub_issues_summary"]["total"], 1);

    // Removing a dependency: by the blocking issue's id in the path.
    let r = env.send(
        "DELETE",
        &format!("{base}/2/dependencies/blocked_by/{}", id(3)),
        Value::Null,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        numbers(&env.get(&format!("{base}/2/dependencies/blocked_by")).json()),
        [4]
    );
    let gone = env.send(
        "DELETE",
        &format!("{base}/2/dependencies/blocked_by/{}", id(3)),
        Value::Null,
    );
    assert_eq!(gone.status, 404);
}
