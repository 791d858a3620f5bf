//! The patch parser's rules, for the JSON body, the view's form and the bulk form.

use serde_json::json;

use super::*;

fn json_patch(body: Value) -> Result<TriagePatch, ValidationErrors> {
    TriagePatch::from_json(body.as_object().expect("an object"))
}

fn form<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<&'a str> {
    move |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| *v)
}

fn failing_fields(errors: &ValidationErrors) -> Vec<(&str, &str)> {
    errors
        .0
        .iter()
        .map(|e| (e.field.as_str(), e.code))
        .collect()
}

#[test]
fn labels_are_trimmed_lowered_and_every_repeat_dropped() {
    let labels = Labels::parse([" UI ", "crash", "ui", "Crash", "ui"]).unwrap();
    assert_eq!(labels.as_slice(), ["ui", "crash"]);
    assert_eq!(
        Labels::parse_comma_list("a, ,b,,A").unwrap().as_slice(),
        ["a", "b"]
    );
    assert_eq!(Labels::parse_comma_list(" ").unwrap(), Labels::default());
}

#[test]
fn labels_have_length_rules_and_a_cap_after_repeats_are_dropped() {
    assert_eq!(Labels::parse([""]), None);
    assert_eq!(Labels::parse(["x".repeat(41).as_str()]), None);
    assert!(Labels::parse(["x".repeat(40).as_str()]).is_some());
    assert_eq!(Labels::parse(["a\u{7}b"]), None);
    let twenty: Vec<String> = (0..20).map(|n| format!("l{n}")).collect();
    let mut with_repeats: Vec<&str> = twenty.iter().map(String::as_str).collect();
    with_repeats.extend(["l0", "L1", " l2 "]);
    assert_eq!(
        Labels::parse(with_repeats.clone())
            .unwrap()
            .as_slice()
            .len(),
        20
    );
    with_repeats.push("l20");
    assert_eq!(Labels::parse(with_repeats), None);
    let list = (0..21)
        .map(|n| format!("l{n}"))
        .collect::<Vec<_>>()
        .join(",");
    assert_eq!(Labels::parse_comma_list(&list), None);
}

#[test]
fn json_patch_parses_every_field_and_null_clears() {
    let id = Uuid::now_v7();
    let patch = json_patch(json!({
        "status": "in_progress", "labels": ["UI", "ui", "crash"],
        "assignee": "ann", "duplicate_of": id.to_string(),
    }))
    .unwrap();
    assert_eq!(patch.status, Some(Status::InProgress));
    assert_eq!(patch.labels.unwrap().as_slice(), ["ui", "crash"]);
    assert_eq!(patch.assignee, Some(Some("ann".to_owned())));
    assert_eq!(patch.duplicate_of, Some(Some(id)));
    let cleared = json_patch(json!({"assignee": null, "duplicate_of": null})).unwrap();
    assert_eq!(cleared.assignee, Some(None));
    assert_eq!(cleared.duplicate_of, Some(None));
    assert!(json_patch(json!({})).unwrap().is_empty());
}

#[test]
fn json_patch_lists_every_failing_field() {
    let labels: Vec<String> = (0..21).map(|n| format!("l{n}")).collect();
    let errors = json_patch(json!({
        "status": "closed", "labels": labels, "assignee": "ann example",
        "duplicate_of": 7, "received_at": "now",
    }))
    .unwrap_err();
    let mut fields = failing_fields(&errors);
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            ("assignee", "invalid"),
            ("duplicate_of", "invalid_type"),
            ("labels", "invalid"),
            ("received_at", "unknown_field"),
            ("status", "invalid"),
        ]
    );
    let not_strings = json_patch(json!({"labels": ["ui", 3]})).unwrap_err();
    assert_eq!(failing_fields(&not_strings), [("labels", "invalid")]);
}

#[test]
fn form_patch_follows_the_same_rules_and_blank_clears() {
    let patch = TriagePatch::from_form(form(&[
        ("status", "done"),
        ("labels", "UI, crash, ui"),
        ("assignee", " "),
        ("duplicate_of", ""),
    ]))
    .unwrap();
    assert_eq!(patch.status, Some(Status::Done));
    assert_eq!(patch.labels.unwrap().as_slice(), ["ui", "crash"]);
    assert_eq!(patch.assignee, Some(None));
    assert_eq!(patch.duplicate_of, Some(None));
    assert!(TriagePatch::from_form(form(&[])).unwrap().is_empty());
    let list = (0..21)
        .map(|n| format!("l{n}"))
        .collect::<Vec<_>>()
        .join(",");
    let errors = TriagePatch::from_form(form(&[
        ("status", "closed"),
        ("labels", &list),
        ("duplicate_of", "x"),
    ]))
    .unwrap_err();
    assert_eq!(
        failing_fields(&errors),
        [
            ("status", "invalid"),
            ("labels", "invalid"),
            ("duplicate_of", "invalid")
        ]
    );
}

#[test]
fn bulk_form_adds_one_label_and_leaves_blank_fields() {
    let patch =
        TriagePatch::from_bulk_form(form(&[("status", ""), ("label", " Q4 "), ("assignee", "")]))
            .unwrap();
    assert_eq!(patch.add_label.as_deref(), Some("q4"));
    assert_eq!((patch.status, patch.assignee), (None, None));
    assert!(
        TriagePatch::from_bulk_form(form(&[("status", " ")]))
            .unwrap()
            .is_empty()
    );
    let errors = TriagePatch::from_bulk_form(form(&[
        ("status", "closed"),
        ("label", "a,b"),
        ("assignee", "a b"),
    ]))
    .unwrap_err();
    assert_eq!(
        failing_fields(&errors),
        [
            ("status", "invalid"),
            ("label", "invalid"),
            ("assignee", "invalid")
        ]
    );
}

#[test]
fn a_label_is_removed_by_the_bulk_form_and_the_json_patch() {
    let bulk =
        TriagePatch::from_bulk_form(form(&[("remove_label", " UI "), ("label", "q4")])).unwrap();
    assert_eq!(bulk.remove_label.as_deref(), Some("ui"));
    assert_eq!(bulk.add_label.as_deref(), Some("q4"));
    assert_eq!(bulk.describe(), "+label=q4 -label=ui");
    let json = json_patch(json!({"remove_label": "Crash", "add_label": "fixed"})).unwrap();
    assert_eq!(json.remove_label.as_deref(), Some("crash"));
    assert_eq!(json.add_label.as_deref(), Some("fixed"));
    let same =
        TriagePatch::from_bulk_form(form(&[("remove_label", "ui"), ("label", "UI")])).unwrap_err();
    assert_eq!(failing_fields(&same), [("remove_label", "conflict")]);
    let errors =
        json_patch(json!({"labels": ["a"], "remove_label": "b", "add_label": 3})).unwrap_err();
    let mut fields = failing_fields(&errors);
    fields.sort_unstable();
    assert_eq!(
        fields,
        [("add_label", "invalid_type"), ("remove_label", "conflict")]
    );
    let bad = json_patch(json!({"remove_label": "a,b"})).unwrap_err();
    assert_eq!(failing_fields(&bad), [("remove_label", "invalid")]);
}

#[test]
fn describe_names_each_change() {
    let patch = TriagePatch {
        status: Some(Status::Done),
        add_label: Some("q4".to_owned()),
        assignee: Some(None),
        ..TriagePatch::default()
    };
    assert_eq!(patch.describe(), "status=done +label=q4 assignee=-");
}
