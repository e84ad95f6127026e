use roadmap_model::{Issue, ItemId, Status};
use roadmap_store::{Kind, Store, StoreError};

fn project() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::init(dir.path(), "").unwrap();
    (dir, store)
}

fn write(store: &Store, name: &str, text: &str) {
    std::fs::write(store.layout().kind_dir(Kind::Issue).join(name), text).unwrap();
}

#[test]
fn init_writes_layout_and_gitignore() {
    let (_d, store) = project();
    for k in ["issues", "milestones", "roadmaps"] {
        assert!(store.layout().dir().join(k).is_dir());
    }
    let gi = std::fs::read_to_string(store.layout().gitignore()).unwrap();
    assert!(gi.contains("/index.db") && gi.contains("/cache/"));
}

#[test]
fn create_save_and_reload() {
    let (_d, store) = project();
    let mut issue = Issue::new(ItemId::new("a1").unwrap(), "Title");
    issue.body = "Body\n".into();
    let mut f = store.create(issue).unwrap();
    assert!(matches!(
        store.create(f.item().clone()),
        Err(StoreError::Exists { .. })
    ));
    assert!(
        !store.save(&mut f).unwrap(),
        "unchanged item must not be written"
    );
    f.item_mut().title = "New title".into();
    f.item_mut().status = Status::Done;
    assert!(store.save(&mut f).unwrap());
    let back = store.get::<Issue>(&ItemId::new("a1").unwrap()).unwrap();
    assert_eq!(back.item().title, "New title");
    assert_eq!(back.item().body, "Body\n");
    // The file name never changes with the title.
    assert!(back.path.ends_with("issues/a1.md"));
}

#[test]
fn every_bad_file_is_reported_with_its_location_and_the_rest_loads() {
    let (_d, store) = project();
    write(&store, "good.md", "---\nid: good\ntitle: fine\n---\n");
    write(&store, "yaml.md", "---\nid: yaml\ntitle: [unclosed\n---\n");
    write(
        &store,
        "type.md",
        "---\nid: type\ntitle: t\nlabels: 5\n---\n",
    );
    write(
        &store,
        "status.md",
        "---\nid: status\ntitle: t\nstatus: wip\n---\n",
    );
    write(
        &store,
        "dup.md",
        "---\nid: good\ntitle: copy of good\n---\n",
    );
    write(&store, "nofm.md", "just text\n");
    std::fs::write(
        store.layout().kind_dir(Kind::Issue).join("bin.md"),
        b"---\nid: bin\ntitle: \xff\n---\n",
    )
    .unwrap();
    let report = store.load_all::<Issue>().unwrap();
    assert_eq!(report.items.len(), 1);
    let msgs: Vec<String> = report.skipped.iter().map(|e| e.to_string()).collect();
    let find = |name: &str| {
        msgs.iter()
            .find(|m| m.contains(name))
            .cloned()
            .unwrap_or_else(|| panic!("{name} not in {msgs:?}"))
    };
    assert!(find("yaml.md").contains("yaml.md:3:"), "{msgs:?}");
    let t = find("type.md");
    assert!(t.contains("type.md:4:"), "{t}");
    let s = find("status.md");
    assert!(
        s.contains("status.md:4:") && s.contains("unknown status `wip`"),
        "{s}"
    );
    assert!(find("dup.md").contains("does not match the file name"));
    assert!(find("nofm.md").contains("delimiter"));
    assert!(find("bin.md").contains("not UTF-8"));
}

#[cfg(unix)]
#[test]
fn writes_never_follow_symlinks_out_of_the_project() {
    let (_d, store) = project();
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("victim.md");
    std::fs::write(&target, "precious").unwrap();
    let link = store.path_of(Kind::Issue, &ItemId::new("evil").unwrap());
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let err = store.write_atomic(&link, b"overwritten").unwrap_err();
    assert!(matches!(err, StoreError::UnsafePath(_)), "{err}");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious");

    // A symlinked folder inside .roadmap/ is refused too.
    let dir_link = store.layout().dir().join("comments");
    std::fs::remove_dir(&dir_link).unwrap();
    std::os::unix::fs::symlink(outside.path(), &dir_link).unwrap();
    let err = store
        .write_atomic(&dir_link.join("x.md"), b"x")
        .unwrap_err();
    assert!(matches!(err, StoreError::UnsafePath(_)), "{err}");
    assert!(!outside.path().join("x.md").exists());
}

#[test]
fn atomic_write_leaves_no_temp_files() {
    let (_d, store) = project();
    for i in 0..20 {
        store
            .create(Issue::new(ItemId::new(format!("i{i}")).unwrap(), "t"))
            .unwrap();
    }
    let leftovers: Vec<_> = std::fs::read_dir(store.layout().kind_dir(Kind::Issue))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty());
}
