use proptest::prelude::*;
use roadmap_model::{Issue, ItemId, Priority, RemoteRef, Status, Timestamp};
use roadmap_store::Document;

fn tricky_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 ]{0,20}",
        Just("no".to_owned()),
        Just("on".to_owned()),
        Just("0123".to_owned()),
        Just("a: b # c".to_owned()),
        Just("---".to_owned()),
        Just("- item".to_owned()),
        Just("\"quoted\" and 'single'".to_owned()),
        Just("Ünïcødé ✓ 漢字 \u{202e}rtl".to_owned()),
        Just("line one\nline two".to_owned()),
        Just("tab\there".to_owned()),
        Just("null".to_owned()),
        Just("~".to_owned()),
        Just("".to_owned()),
        ".{0,30}",
    ]
}

fn body() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("# Title\n\n---\nid: fake\n---\n".to_owned()),
        Just("text\r\nwith crlf\r\n".to_owned()),
        Just("no trailing newline".to_owned()),
        ".{0,200}",
    ]
}

prop_compose! {
    fn issue()(
        n in 1u64..1_000_000,
        title in tricky_text(),
        status in prop::sample::select(Status::ALL.to_vec()),
        priority in prop::sample::select(Priority::ALL.to_vec()),
        labels in prop::collection::vec(tricky_text(), 0..4),
        assignees in prop::collection::vec("[a-z]{1,8}", 0..3),
        milestone in prop::option::of(tricky_text()),
        estimate in prop::option::of(0.0f64..1000.0),
        progress in prop::option::of(0u8..=100),
        secs in prop::option::of(0i64..4_000_000_000),
        remote in prop::option::of((1u64..100000, tricky_text())),
        body in body(),
    ) -> Issue {
        let mut i = Issue::new(ItemId::for_remote_issue(n), title);
        i.status = status;
        i.priority = priority;
        i.labels = labels;
        i.assignees = assignees;
        i.milestone = milestone;
        i.estimate = estimate;
        i.progress = progress;
        i.created = secs.and_then(Timestamp::from_unix);
        i.remote = remote.map(|(number, url)| RemoteRef { number, url: Some(url), ..RemoteRef::default() });
        i.body = body;
        i
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// A written issue reads back equal, and re-writing it gives the same bytes.
    #[test]
    fn written_issue_round_trips(issue in issue()) {
        let text = Document::new(issue.clone(), issue.body.clone()).render();
        let doc = Document::<Issue>::parse(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        let mut back = doc.value.clone();
        back.body = doc.body.clone();
        prop_assert_eq!(&back, &issue);
        prop_assert_eq!(doc.render(), text);
    }

    /// Hand-written files with unknown keys, comments and odd formatting survive unchanged.
    #[test]
    fn hand_written_file_is_kept_byte_for_byte(
        extra in prop::collection::vec(("x_[a-z]{1,6}", "[a-z0-9 ]{0,10}"), 0..4),
        comment in "[a-z ]{0,20}",
        body in body(),
    ) {
        let mut text = String::from("---\n# ");
        text.push_str(&comment);
        text.push_str("\nid:   gh-7\ntitle:    \"spaced\"\n");
        let mut seen = std::collections::HashSet::new();
        for (k, v) in &extra {
            if seen.insert(k.clone()) {
                text.push_str(&format!("{k}: '{v}'\n"));
            }
        }
        text.push_str("labels: [a, b]\nstatus: in-progress\n---\n");
        text.push_str(&body);
        let doc = Document::<Issue>::parse(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(doc.render(), text);
    }

    /// The parser never panics on arbitrary input.
    #[test]
    fn parser_never_panics(text in ".{0,300}") {
        let _ = Document::<Issue>::parse(&format!("---\n{text}\n---\nbody"));
        let _ = Document::<Issue>::parse(&text);
    }
}

#[test]
fn changing_one_field_keeps_unknown_keys_and_order() {
    let text = "---\nzeta: 1\nid: a\ntitle: T\nalpha: [x]\nlabels: [a]\n---\nbody\n";
    let mut doc = Document::<Issue>::parse(text).unwrap();
    doc.value.labels.push("b".into());
    let out = doc.render();
    assert!(
        out.starts_with(
            "---\nzeta: 1\nid: a\ntitle: T\nalpha: [x]\nlabels:\n- a\n- b\n---\nbody\n"
        ),
        "{out}"
    );
}
