//! Paging: defaults and caps, `nextPage` to the end, numeric tokens, bare arrays on the older
//! surface.

use super::*;

#[tokio::test]
async fn paging_defaults_to_50_caps_at_1000_and_ends_with_null() {
    let h = synthetic_sandbox(1205, Knobs::default()).await;
    let bearer = token(&h).await;
    let (status, first) = get_json(&h, &bearer, "/v2/workbooks").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(first["entries"].as_array().unwrap().len(), 50);
    assert_eq!(first["total"], 1205);
    let token = first["nextPage"].as_str().unwrap();
    assert!(token.parse::<u64>().is_err(), "opaque by default: {token}");

    let (_, big) = get_json(&h, &bearer, "/v2/workbooks?limit=1000").await;
    assert_eq!(big["entries"].as_array().unwrap().len(), 1000);
    for bad in ["1001", "0", "-1", "abc", "1.5"] {
        let (status, body) = get_json(&h, &bearer, &format!("/v2/workbooks?limit={bad}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "limit={bad}");
        assert_sigma_error(&body);
    }
    let (status, _) = get_json(&h, &bearer, "/v2/workbooks?page=%%garbage").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Walk every page: each id once, last page's nextPage is null.
    let mut seen = std::collections::HashSet::new();
    let mut page: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut request = http()
            .get(format!("{}/v2/workbooks", h.base_url()))
            .bearer_auth(&bearer)
            .query(&[("limit", "500")]);
        if let Some(p) = &page {
            request = request.query(&[("page", p)]);
        }
        let body: Value = request.send().await.unwrap().json().await.unwrap();
        pages += 1;
        for entry in body["entries"].as_array().unwrap() {
            assert!(seen.insert(entry["workbookId"].as_str().unwrap().to_owned()));
        }
        match &body["nextPage"] {
            Value::Null => break,
            Value::String(next) => page = Some(next.clone()),
            other => panic!("nextPage {other}"),
        }
    }
    assert_eq!((pages, seen.len()), (3, 1205));
    h.shutdown().await;
}

#[tokio::test]
async fn numeric_page_token_style() {
    let h = synthetic_sandbox(
        120,
        Knobs {
            page_token_style: PageTokenStyle::Numeric,
            ..Knobs::default()
        },
    )
    .await;
    let bearer = token(&h).await;
    let (_, first) = get_json(&h, &bearer, "/v2/workbooks?limit=100").await;
    assert_eq!(first["nextPage"], "100");
    let (_, last) = get_json(&h, &bearer, "/v2/workbooks?limit=100&page=100").await;
    assert_eq!(last["entries"].as_array().unwrap().len(), 20);
    assert_eq!(last["nextPage"], Value::Null);
    h.shutdown().await;
}

#[tokio::test]
async fn members_and_workspaces_are_bare_arrays_without_limit_on_the_older_surface() {
    let h = start(SandboxConfig {
        api: ApiSurface::Legacy2023,
        ..SandboxConfig::default()
    })
    .await;
    let bearer = token(&h).await;
    for path in ["/v2/members", "/v2/workspaces"] {
        let (status, body) = get_json(&h, &bearer, path).await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.is_array(), "{path}: {body}");
        let (_, paged) = get_json(&h, &bearer, &format!("{path}?limit=2")).await;
        assert_eq!(paged["entries"].as_array().unwrap().len(), 2);
        assert!(paged["nextPage"].is_string());
        let (_, v21) = get_json(&h, &bearer, &path.replace("/v2/", "/v2.1/")).await;
        assert!(v21["entries"].is_array(), "v2.1 always pages");
    }
    let (_, members) = get_json(&h, &bearer, "/v2/members").await;
    assert_eq!(
        members.as_array().unwrap().len(),
        58,
        "archived/inactive hidden"
    );
    let (_, all) = get_json(
        &h,
        &bearer,
        "/v2/members?includeArchived=true&includeInactive=true",
    )
    .await;
    assert_eq!(all.as_array().unwrap().len(), 60);
    assert!(
        all.as_array()
            .unwrap()
            .iter()
            .all(|m| m["email"].as_str().unwrap().contains('@'))
    );
    h.shutdown().await;
}
