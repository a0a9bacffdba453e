//! The request types of the directory endpoints, parsed from the parameters real clients send.

use super::*;

fn p(q: &str) -> Params {
    Params::from_query(q).unwrap()
}

#[test]
fn add_needs_name_and_password() {
    let ok =
        UserSync::from_params(&p("Action=2&Alias=Bob@X.com&Name=Bob&Password=secret1")).unwrap();
    assert_eq!(ok.action, Action::Add);
    assert_eq!(ok.alias.as_str(), "bob@x.com");
    assert_eq!(ok.fields.parties, None);
    assert_eq!(
        UserSync::from_params(&p("Action=2&Alias=bob@x.com&Password=secret1")),
        Err(ErrorCode::InvalidRequest)
    );
    assert_eq!(
        UserSync::from_params(&p("Action=2&Alias=bob@x.com&Name=Bob")),
        Err(ErrorCode::InvalidRequest)
    );
}

#[test]
fn every_field_sent_empty_means_not_given() {
    let q = "action=3&alias=bob@x.com&name=&gender=&partyPath=&slave=&openType=&password=&md5=&position=&tel=&mobile=&extid=";
    let s = UserSync::from_params(&p(q)).unwrap();
    assert_eq!(s.fields, MemberFields::default());
}

#[test]
fn actions_and_codes() {
    assert_eq!(
        UserSync::from_params(&p("Action=1&Alias=a@x.com"))
            .unwrap()
            .action,
        Action::Del
    );
    for bad in ["Action=4", "Action=", "Action=add", ""] {
        let q = format!("{bad}&Alias=a@x.com");
        assert_eq!(
            UserSync::from_params(&p(&q)),
            Err(ErrorCode::InvalidRequest),
            "{bad}"
        );
    }
    assert_eq!(
        UserSync::from_params(&p("Action=1")),
        Err(ErrorCode::InvalidRequest)
    );
    assert_eq!(
        UserSync::from_params(&p("Action=1&Alias=nope")),
        Err(ErrorCode::InvalidAlias)
    );
}

#[test]
fn field_ranges() {
    let base = "Action=3&Alias=a@x.com";
    let check = |extra: &str| UserSync::from_params(&p(&format!("{base}&{extra}")));
    assert_eq!(check("Gender=3"), Err(ErrorCode::InvalidField));
    assert_eq!(check("Gender=0").unwrap().fields.gender, Some(0));
    assert_eq!(check("OpenType=0").unwrap().fields.open_type, None);
    assert_eq!(
        check("OpenType=2").unwrap().fields.open_type,
        Some(OpenType::Disabled)
    );
    assert_eq!(check("OpenType=9"), Err(ErrorCode::InvalidField));
    assert_eq!(
        check(&format!("Name={}", "名".repeat(65))),
        Err(ErrorCode::InvalidField)
    );
    assert!(check(&format!("Name={}", "名".repeat(64))).is_ok());
    assert_eq!(check("Password=12345"), Err(ErrorCode::InvalidPassword));
    assert_eq!(
        check(&format!("Password={}", "x".repeat(33))),
        Err(ErrorCode::InvalidPassword)
    );
    assert_eq!(check("Password=abc&Md5=1"), Err(ErrorCode::InvalidPassword));
    let md5 = check("Password=E10ADC3949BA59ABBE56E057F20F883E&Md5=1").unwrap();
    assert_eq!(
        md5.fields.password.unwrap().value,
        "e10adc3949ba59abbe56e057f20f883e"
    );
    assert_eq!(check("Md5=2&Password=123456"), Err(ErrorCode::InvalidField));
}

#[test]
fn slaves_and_parties() {
    let base = "Action=3&Alias=a@x.com";
    let check = |extra: &str| UserSync::from_params(&p(&format!("{base}&{extra}")));
    let five = (1..=5)
        .map(|i| format!("Slave=s{i}@x.com"))
        .collect::<Vec<_>>()
        .join("&");
    assert_eq!(check(&five).unwrap().fields.slaves.unwrap().len(), 5);
    assert_eq!(
        check(&format!("{five}&Slave=s6@x.com")),
        Err(ErrorCode::TooManySlaves)
    );
    assert_eq!(check("Slave=bad"), Err(ErrorCode::InvalidAlias));
    // The own address is dropped first: not an alias, not one of the five.
    assert_eq!(
        check(&format!("{five}&Slave=A@x.com"))
            .unwrap()
            .fields
            .slaves
            .unwrap()
            .len(),
        5
    );
    assert_eq!(check("Slave=a@x.com").unwrap().fields.slaves, None);
    let s = check("PartyPath=/IT部/产品&PartyPath=HR&PartyPath=IT部/产品").unwrap();
    let parties: Vec<String> = s
        .fields
        .parties
        .unwrap()
        .iter()
        .map(PartyPath::joined)
        .collect();
    assert_eq!(parties, ["IT部/产品", "HR"]);
    assert_eq!(check("PartyPath=/").unwrap().fields.parties, Some(vec![]));
    assert_eq!(
        check("PartyPath=a/b/c/d/e/f"),
        Err(ErrorCode::InvalidPartyPath)
    );
}

#[test]
fn party_sync_requests() {
    let add = PartySync::from_params(&p("Action=2&DstPath=/a/b")).unwrap();
    assert_eq!(add.dst.joined(), "a/b");
    let m = PartySync::from_params(&p("action=3&srcpath=a&dstpath=b/c")).unwrap();
    assert_eq!(m.src.unwrap().joined(), "a");
    assert_eq!(
        PartySync::from_params(&p("Action=2&DstPath=/")),
        Err(ErrorCode::InvalidRequest)
    );
    assert_eq!(
        PartySync::from_params(&p("Action=3&DstPath=b")),
        Err(ErrorCode::InvalidRequest)
    );
}

#[test]
fn check_and_groups() {
    assert_eq!(check_emails(&p("")), Err(ErrorCode::InvalidRequest));
    let many = (0..21)
        .map(|i| format!("email=a{i}@x.com"))
        .collect::<Vec<_>>()
        .join("&");
    assert_eq!(check_emails(&p(&many)), Err(ErrorCode::InvalidRequest));
    assert_eq!(
        check_emails(&p("email=%20A@x.com%20&email=bad")).unwrap(),
        ["A@x.com", "bad"]
    );
    let g = GroupAdd::from_params(&p(
        "group_name=t&group_admin=g@x.com&status=LIST&members=a@x.com,b@x.com",
    ))
    .unwrap();
    assert_eq!(g.status, GroupStatus::List);
    assert_eq!(g.members.len(), 2);
    assert_eq!(
        GroupAdd::from_params(&p("group_name=t&group_admin=g@x.com&status=open")),
        Err(ErrorCode::InvalidGroupStatus)
    );
    assert_eq!(
        allow_list_param(&p("allow_list=")),
        Err(ErrorCode::InvalidRequest)
    );
    assert_eq!(list_ver(&p("Ver=abc")), None);
    assert_eq!(list_ver(&p("Ver=12")), Some(Ver(12)));
}
