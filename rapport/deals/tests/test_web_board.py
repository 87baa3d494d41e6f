"""The pipeline board: columns, filters, moving deals (and the refused move with its override)."""

from typing import Any

from rapport.deals.models import Deal, StepMove


def test_the_board_shows_a_column_per_step_with_the_deal_in_its_step(ana: Any, make_deal: Any) -> None:
    deal = make_deal(name="Forklift fleet renewal", amount="120000")
    response = ana.get("/deals/")
    assert response.status_code == 200
    html = response.content.decode()
    for label in ("Analyse the customer", "Build trust", "Dig out needs", "Present value", "Win the commitment", "Follow-up service"):
        assert label in html
    assert f'id="deal-card-{deal.pk}"' in html
    assert "€120,000.00" in html and "Distribuidora Norte S.A." in html
    assert "1 deal" in html


def test_a_reps_board_shows_only_their_own_deals_by_default(ana: Any, make_deal: Any) -> None:
    mine = make_deal(name="Mine")
    bens = make_deal(name="Ben's", user="rep_ben")
    html = ana.get("/deals/").content.decode()
    assert f"deal-card-{mine.pk}" in html and f"deal-card-{bens.pk}" not in html
    html = ana.get("/deals/?owner=all").content.decode()
    assert f"deal-card-{bens.pk}" in html


def test_a_manager_sees_the_team_board_by_default(users: Any, make_deal: Any) -> None:
    from django.test import Client

    deal = make_deal(name="Ana's deal")
    client = Client()
    client.force_login(users["manager_mei"])
    html = client.get("/deals/").content.decode()
    assert f"deal-card-{deal.pk}" in html


def test_the_close_month_filter_keeps_only_deals_closing_that_month(ana: Any, make_deal: Any) -> None:
    march = make_deal(name="March", expected_close="2027-03-10")
    april = make_deal(name="April", expected_close="2027-04-10")
    html = ana.get("/deals/?owner=all&close_month=2027-03").content.decode()
    assert f"deal-card-{march.pk}" in html and f"deal-card-{april.pk}" not in html


def test_a_bad_filter_is_named_and_the_board_still_shows(ana: Any, make_deal: Any) -> None:
    make_deal()
    response = ana.get("/deals/?owner=all&close_month=March&segment=999")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Give the closing month as year and month" in html and "Unknown segment." in html


def test_an_htmx_request_gets_only_the_board(ana: Any, make_deal: Any) -> None:
    make_deal()
    html = ana.get("/deals/?owner=all", HTTP_HX_REQUEST="true").content.decode()
    assert html.lstrip().startswith('<div id="board"') and "<html" not in html


def test_a_move_back_is_made_and_the_board_answers(ana: Any, users: Any, make_deal: Any) -> None:
    from rapport.deals import services

    deal = make_deal()
    services.move_step(user=users["rep_ana"], deal=deal, to="build_trust", override_reason="Known customer")
    deal.refresh_from_db()
    response = ana.post(f"/deals/{deal.pk}/move/?owner=all", {"to": "analyse", "version": deal.version}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "moved to Analyse the customer" in response.content.decode()
    assert Deal.objects.get(pk=deal.pk).step == "analyse"


def test_a_move_without_exit_signals_is_refused_naming_them_and_nothing_moves(ana: Any, make_deal: Any) -> None:
    deal = make_deal()
    response = ana.post(f"/deals/{deal.pk}/move/", {"to": "build_trust", "version": deal.version}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    html = response.content.decode()
    assert "<dialog" in html and "The four opportunity questions are answered yes" in html
    assert 'name="override_reason"' in html
    assert Deal.objects.get(pk=deal.pk).step == "analyse"
    assert StepMove.objects.filter(deal=deal).count() == 1


def test_the_override_reason_from_the_dialog_moves_the_deal_and_is_recorded(ana: Any, make_deal: Any) -> None:
    deal = make_deal()
    response = ana.post(f"/deals/{deal.pk}/move/", {"to": "build_trust", "version": deal.version, "confirm": "1",
                                                   "override_reason": "Repeat buyer, the questions are obvious"},
                        HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    move = StepMove.objects.filter(deal=deal).latest("id")
    assert move.to_step == "build_trust" and move.override_reason == "Repeat buyer, the questions are obvious"
    assert move.missing == ["four_questions"]


def test_the_dialog_sent_without_a_reason_asks_again_and_nothing_moves(ana: Any, make_deal: Any) -> None:
    deal = make_deal()
    response = ana.post(f"/deals/{deal.pk}/move/", {"to": "build_trust", "version": deal.version, "confirm": "1", "override_reason": " "},
                        HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    assert "Give the reason for moving without these signals" in response.content.decode()
    assert Deal.objects.get(pk=deal.pk).step == "analyse"


def test_dropping_a_deal_into_follow_up_asks_why_it_was_won_first(ana: Any, users: Any, make_deal: Any) -> None:
    from rapport.deals import services

    deal = make_deal()
    services.move_step(user=users["rep_ana"], deal=deal, to="win_commitment", override_reason="Fast tender")
    deal.refresh_from_db()
    response = ana.post(f"/deals/{deal.pk}/move/", {"to": "follow_up", "version": deal.version}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    html = response.content.decode()
    assert "Why did we win?" in html and "Best value for their needs" in html and "The contract is signed" in html
    assert Deal.objects.get(pk=deal.pk).status == "open"
    response = ana.post(f"/deals/{deal.pk}/move/", {"to": "follow_up", "version": deal.version, "confirm": "1", "won_reason": "value",
                                                   "override_reason": "Signed on paper, scan follows"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    deal.refresh_from_db()
    assert deal.status == "won" and deal.step == "follow_up" and deal.close_reason == "value"


def test_a_won_reason_outside_the_list_is_refused_and_the_deal_stays_open(ana: Any, users: Any, make_deal: Any) -> None:
    from rapport.deals import services

    deal = make_deal()
    services.move_step(user=users["rep_ana"], deal=deal, to="win_commitment", override_reason="Fast tender")
    deal.refresh_from_db()
    response = ana.post(f"/deals/{deal.pk}/move/", {"to": "follow_up", "version": deal.version, "confirm": "1", "won_reason": "luck",
                                                   "override_reason": "x"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    assert "Choose a reason from the list" in response.content.decode()
    assert Deal.objects.get(pk=deal.pk).status == "open"


def test_a_move_from_a_stale_board_is_refused_with_a_clear_message(ana: Any, users: Any, make_deal: Any) -> None:
    deal = make_deal()
    response = ana.post(f"/deals/{deal.pk}/move/", {"to": "build_trust", "version": deal.version + 5, "confirm": "1", "override_reason": "x"},
                        HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    assert "changed since you loaded it" in response.content.decode()
    assert Deal.objects.get(pk=deal.pk).step == "analyse"


def test_without_javascript_a_refused_move_shows_the_dialog_as_a_page(ana: Any, make_deal: Any) -> None:
    deal = make_deal()
    response = ana.post(f"/deals/{deal.pk}/move/?owner=all", {"to": "build_trust", "version": deal.version})
    assert response.status_code == 422
    assert "Move anyway" in response.content.decode()
    response = ana.post(f"/deals/{deal.pk}/move/?owner=all", {"to": "build_trust", "version": deal.version, "confirm": "1", "override_reason": "Known"})
    assert response.status_code == 302 and response["Location"] == "/deals/?owner=all"


def test_an_analyst_may_read_the_board_but_not_move_a_deal(users: Any, make_deal: Any) -> None:
    from django.test import Client

    deal = make_deal()
    client = Client()
    client.force_login(users["analyst_al"])
    assert client.get("/deals/").status_code == 200
    response = client.post(f"/deals/{deal.pk}/move/", {"to": "build_trust", "confirm": "1", "override_reason": "x"})
    assert response.status_code == 403
    assert Deal.objects.get(pk=deal.pk).step == "analyse"


def test_the_board_takes_a_pinned_number_of_queries(ana: Any, users: Any, make_deal: Any, make_org: Any, django_assert_max_num_queries: Any) -> None:
    from rapport.deals import services

    for i in range(12):
        deal = make_deal(name=f"Deal {i}", card=make_org(name=f"Customer {i}"))
        if i % 2:
            services.move_step(user=users["rep_ana"], deal=deal, to="present_value", override_reason="Known")
    with django_assert_max_num_queries(10):
        response = ana.get("/deals/")
    assert response.content.decode().count('id="deal-card-') == 12


def test_a_long_column_shows_its_first_cards_and_loads_the_rest_on_demand(ana: Any, make_deal: Any) -> None:
    for i in range(43):
        make_deal(name=f"Pallets lot {i:02d}", expected_close=f"2027-01-{i % 28 + 1:02d}")
    page = ana.get("/deals/").content.decode()
    assert page.count('id="deal-card-') == 40
    assert "Show 3 more" in page
    rest = ana.get("/deals/column/", {"step": "analyse", "offset": "40"})
    assert rest.status_code == 200
    assert rest.content.decode().count('id="deal-card-') == 3 and "Show" not in rest.content.decode()
    assert ana.get("/deals/column/", {"step": "nowhere", "offset": "0"}).status_code == 422
    assert ana.get("/deals/column/", {"step": "analyse", "offset": "-1"}).status_code == 422


def test_a_column_page_shows_only_deals_the_user_may_see(users: Any, make_deal: Any, make_org: Any) -> None:
    from django.test import Client

    make_deal(card=make_org(owner="rep_bo_other_team", name="Sur Ltda."), user="rep_bo_other_team", name="Their deal")
    bo = Client()
    bo.force_login(users["rep_ana"])
    assert "Their deal" not in bo.get("/deals/column/", {"step": "analyse", "offset": "0", "owner": "all"}).content.decode()
