def test_register_login_me(actions, client):
    admin = actions.admin()
    response = client.get("/api/v1/me", headers=admin.bearer)
    assert response.status_code == 200
    assert response.json()["username"] == admin.username
    assert response.json()["is_admin"] is True
