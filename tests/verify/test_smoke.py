from datetime import timedelta

from factories import NOW, add_person, issue


def test_issue_and_verify_valid(app, client, session, master, signing_key):
    add_person(session)
    cred = issue(session, master)

    assert cred.expires_at > NOW
    resp = client.get(f"/v/{cred.token}", headers={"Accept": "application/json"})
    assert resp.status_code == 200
    assert resp.json["verdict"] == "valid"
    assert resp.json["staff"]["name"] == "Nguyễn Văn Đức"
    assert resp.json["checked_at"] == NOW.isoformat()  # the app's clock, not the wall's
    assert resp.json["credential"]["id"] == cred.id
    assert resp.json["credential"]["expires_at"] == (NOW + timedelta(days=365)).isoformat()
