"""The stop list on every send path of both API families: a stop-listed number is never written,
submitted nor charged, and is reported per recipient the way each family reports a refused one."""

from __future__ import annotations

from sqlalchemy import func, select

from relaybox.store import accounts as accounts_store
from relaybox.store.tables import campaigns, messages
from tests.conftest import wait_until
from tests.contact_rows import add_field, add_list, stop_list
from tests.factories import DELIVERED, NOT_RCS_USER, UNDELIVERED

LISTED = 380971239011  # stop-listed in these tests (the simulator delivers it like any 0011 number)
FREE = DELIVERED
OTHER = 380971232011
SMS_UA = 350000  # units (10^-7 EUR) per SMS part to Ukraine
RCS_UA = 200000


async def balance(platform, account_id: int) -> int:
    async with platform.db.read() as conn:
        return (await accounts_store.get_account(conn, account_id)).balance


async def phones_of(platform, account_id: int) -> list[int]:
    async with platform.db.read() as conn:
        rows = await conn.execute(select(messages.c.phone).where(messages.c.account_id == account_id)
                                  .order_by(messages.c.id))
        return [r.phone for r in rows]


async def n_campaigns(platform) -> int:
    async with platform.db.read() as conn:
        return (await conn.execute(select(func.count()).select_from(campaigns))).scalar_one()


# -- One API campaigns -------------------------------------------------------------


async def test_sms_send_leaves_stop_listed_phones_out(client, headers, account, app_platform):
    await stop_list(app_platform, account[0], [LISTED])
    before = await balance(app_platform, account[0])
    body = {"sender": "relaybox", "text": "Hello", "phones": [{"number": LISTED}, {"number": FREE}, {"number": str(OTHER)}]}
    r = await client.post("/api/campaigns/sms/send", json=body, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["skipped"] == {"phones.0.number": ["The phone is on the SMS stop list: not sent."]}
    assert r.json()["data"]["calculated_price"] == 0.07
    assert await phones_of(app_platform, account[0]) == [FREE, OTHER]
    assert await balance(app_platform, account[0]) == before - 2 * SMS_UA
    detail = (await client.get(f"/api/campaigns/{r.json()['data']['id']}/detail", headers=headers)).json()["data"]
    assert (detail["total_phones"], detail["total_messages"]) == (3, 2)

    # check_stop_list: false sends to it (a relaybox extension on this request; default true)
    r = await client.post("/api/campaigns/sms/send", json=body | {"text": "Again", "check_stop_list": False},
                          headers=headers)
    assert r.status_code == 200 and "skipped" not in r.json()
    assert (await phones_of(app_platform, account[0])).count(LISTED) == 1


async def test_a_campaign_of_only_stop_listed_phones_is_refused_and_free(client, headers, account, app_platform):
    await stop_list(app_platform, account[0], [LISTED, OTHER])
    before = await balance(app_platform, account[0])
    body = {"sender": "relaybox", "text": "Hello", "phones": [{"number": LISTED}, {"number": OTHER}]}
    r = await client.post("/api/campaigns/sms/send", json=body, headers=headers)
    assert r.status_code == 422
    assert r.json()["errors"] == {
        "phones.0.number": ["The phone is on the SMS stop list: not sent."],
        "phones.1.number": ["The phone is on the SMS stop list: not sent."],
    }
    assert await phones_of(app_platform, account[0]) == [] and await n_campaigns(app_platform) == 0
    assert await balance(app_platform, account[0]) == before
    # refused, so not a duplicate: the same body once a number is taken off the list is accepted
    async with app_platform.db.write() as conn:
        from relaybox.store import stoplist

        from tests.contact_rows import NOW
        await stoplist.set_stoplisted(conn, account[0], [OTHER], ["sms"], on=False, source="api", now=NOW)
    r = await client.post("/api/campaigns/sms/send", json=body, headers=headers)
    assert r.status_code == 200 and list(r.json()["skipped"]) == ["phones.0.number"]


async def test_send_individual_leaves_stop_listed_phones_out(client, headers, account, app_platform):
    await stop_list(app_platform, account[0], [LISTED])
    before = await balance(app_platform, account[0])
    body = {"messages": [{"phone": FREE, "text": "One", "sender": "relaybox"},
                         {"phone": LISTED, "text": "Two", "sender": "relaybox"}]}
    r = await client.post("/api/campaigns/sms/send-individual", json=body, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["skipped"] == {"messages.1.phone": ["The phone is on the SMS stop list: not sent."]}
    assert await phones_of(app_platform, account[0]) == [FREE]
    assert await balance(app_platform, account[0]) == before - SMS_UA


async def test_rcs_send_checks_the_rcs_stop_list(client, headers, account, app_platform):
    await stop_list(app_platform, account[0], [LISTED], ("rcs",))
    await stop_list(app_platform, account[0], [OTHER], ("sms",))  # the SMS list does not stop an RCS message
    before = await balance(app_platform, account[0])
    body = {"sender": "rcs_agent", "options": {"text": "Hi"},
            "phones": [{"number": str(LISTED)}, {"number": str(OTHER)}, {"number": str(FREE)}]}
    r = await client.post("/api/campaigns/rcs/send", json=body, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["skipped"] == {"phones.0.number": ["The phone is on the RCS stop list: not sent."]}
    assert sorted(await phones_of(app_platform, account[0])) == sorted([OTHER, FREE])
    assert await balance(app_platform, account[0]) == before - 2 * RCS_UA


async def test_send_groups_leaves_stop_listed_contacts_out(client, headers, account, app_platform):
    await add_field(app_platform, account[0], "name")
    group = await add_list(app_platform, account[0], "l", [{"phone": LISTED, "name": "A"}, {"phone": FREE, "name": "B"}])
    await stop_list(app_platform, account[0], [LISTED])
    before = await balance(app_platform, account[0])
    r = await client.post("/api/campaigns/sms/send-groups",
                          json={"groups": [group], "sender": "relaybox", "text": "Hi {name}"}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["skipped"] == {f"contacts.{LISTED}.phone": ["The phone is on the SMS stop list: not sent."]}
    assert await phones_of(app_platform, account[0]) == [FREE]
    assert await balance(app_platform, account[0]) == before - SMS_UA

    await stop_list(app_platform, account[0], [FREE])
    r = await client.post("/api/campaigns/sms/send-groups",
                          json={"groups": [group], "sender": "relaybox", "text": "Hi again {name}"}, headers=headers)
    assert r.status_code == 422
    assert r.json()["errors"] == {"groups": ["Every contact of the lists is on the SMS stop list: nothing to send."]}
    assert await phones_of(app_platform, account[0]) == [FREE]


async def test_rcs_send_groups_checks_the_rcs_stop_list(client, headers, account, app_platform):
    group = await add_list(app_platform, account[0], "l", [{"phone": LISTED}, {"phone": FREE}])
    await stop_list(app_platform, account[0], [LISTED], ("rcs",))
    before = await balance(app_platform, account[0])
    r = await client.post("/api/campaigns/rcs/send-groups",
                          json={"groups": [group], "sender": "rcs_agent", "options": {"text": "Hi"}}, headers=headers)
    assert r.status_code == 200, r.text
    assert list(r.json()["skipped"]) == [f"contacts.{LISTED}.phone"]
    assert await phones_of(app_platform, account[0]) == [FREE]
    assert await balance(app_platform, account[0]) == before - RCS_UA


# -- One API single messages -------------------------------------------------------------


async def test_messages_send_refuses_a_stop_listed_phone(client, headers, account, app_platform):
    await stop_list(app_platform, account[0], [LISTED])
    before = await balance(app_platform, account[0])
    body = {"channels": ["sms"], "phone": {"number": LISTED}, "sms": {"sender": "relaybox", "text": "Hi"}}
    for extra in ({"dry_run": True}, {}):
        r = await client.post("/api/messages/send", json=body | extra, headers=headers)
        assert r.status_code == 422, r.text
        assert r.json()["errors"] == {"phone.number": ["The phone is on the SMS stop list: not sent."]}
    assert await phones_of(app_platform, account[0]) == []
    assert await balance(app_platform, account[0]) == before
    r = await client.post("/api/messages/send", json=body | {"check_stop_list": False}, headers=headers)
    assert r.status_code == 200, r.text
    assert await phones_of(app_platform, account[0]) == [LISTED]


async def test_rcs_single_sends_check_the_rcs_stop_list(client, headers, account, app_platform):
    await stop_list(app_platform, account[0], [LISTED], ("rcs",))
    before = await balance(app_platform, account[0])
    rcs = {"phone": {"number": str(LISTED)}, "sender": "rcs_agent", "options": {"text": "Hi"}}
    r = await client.post("/api/messages/rcs/send", json=rcs, headers=headers)
    assert r.status_code == 422 and r.json()["errors"] == {"phone.number": ["The phone is on the RCS stop list: not sent."]}
    universal = {"channels": ["rcs", "sms"], "phone": {"number": LISTED},
                 "rcs": {"sender": "rcs_agent", "text": "Hi"}, "sms": {"sender": "relaybox", "text": "Hi"}}
    r = await client.post("/api/messages/send", json=universal, headers=headers)
    assert r.status_code == 422 and list(r.json()["errors"]) == ["phone.number"]
    assert await phones_of(app_platform, account[0]) == []
    assert await balance(app_platform, account[0]) == before


async def test_the_sms_fallback_of_an_rcs_message_checks_the_sms_stop_list(client, headers, account, app_platform):
    # NOT_RCS_USER has no RCS: its message ends not_service_user and would fall back to SMS
    await stop_list(app_platform, account[0], [NOT_RCS_USER], ("sms",))
    before = await balance(app_platform, account[0])
    body = {"channels": ["rcs", "sms"], "phone": {"number": NOT_RCS_USER},
            "rcs": {"sender": "rcs_agent", "text": "Hi"}, "sms": {"sender": "relaybox", "text": "Hi by SMS"}}
    r = await client.post("/api/messages/send", json=body, headers=headers)
    assert r.status_code == 200, r.text  # the RCS stop list does not hold it
    single = {"phone": {"number": str(NOT_RCS_USER)}, "sender": "rcs_agent", "options": {"text": "Hello"},
              "alternative_channel": {"sms": {"text": "Hello by SMS", "sender": "relaybox"}}}
    r2 = await client.post("/api/messages/rcs/send", json=single, headers=headers)
    assert r2.status_code == 200, r2.text
    ids = {r.json()["data"]["id"], r2.json()["data"]["id"]}

    async def final():
        async with app_platform.db.read() as conn:
            rows = (await conn.execute(select(messages).where(messages.c.account_id == account[0]))).all()
        return rows if all(m.status == "not_service_user" for m in rows if m.id in ids) else None

    rows = await wait_until(final)
    assert {m.id for m in rows} == ids  # no SMS fallback was created
    assert all(m.type == "rcs" and m.alternative_id is None for m in rows)
    assert await balance(app_platform, account[0]) == before  # RCS refunded, no SMS charged

    # with the fallback's check_stop_list false, the SMS is sent
    single["alternative_channel"]["sms"]["check_stop_list"] = False
    single["options"]["text"] = "Hello again"
    r3 = await client.post("/api/messages/rcs/send", json=single, headers=headers)
    assert r3.status_code == 200

    async def fallback():
        async with app_platform.db.read() as conn:
            rows = (await conn.execute(select(messages).where(messages.c.parent_id == r3.json()["data"]["id"]))).all()
        return rows

    (sms,) = await wait_until(fallback)
    assert sms.type == "sms" and sms.phone == NOT_RCS_USER


# -- legacy REST -------------------------------------------------------------


async def test_legacy_single_send_refuses_a_stop_listed_phone_with_33(client, headers, account, app_platform):
    await stop_list(app_platform, account[0], [LISTED])
    before = await balance(app_platform, account[0])
    body = {"destination": "phone", "msisdn": str(LISTED), "originator": "relaybox", "body": "Hi", "reference": "r1"}
    r = await client.post("/rest/sms/create", json=body, headers=headers)
    assert r.status_code == 200
    assert r.json() == {"result": {"error": 33, "errorDescription": "Direction not allowed", "reference": "r1"}}
    assert await phones_of(app_platform, account[0]) == []
    assert await balance(app_platform, account[0]) == before


async def test_legacy_task_answers_33_per_stop_listed_recipient(client, headers, account, app_platform):
    await stop_list(app_platform, account[0], [LISTED])
    before = await balance(app_platform, account[0])
    for destination, extra in (("phones", {"originator": "relaybox", "body": "Hi"}), ("individual", {})):
        phones = [{"msisdn": str(LISTED), "reference": f"{destination}a"}, {"msisdn": str(UNDELIVERED), "reference": f"{destination}b"}]
        if destination == "individual":
            phones = [p | {"originator": "relaybox", "body": "Hi"} for p in phones]
        r = await client.put("/rest/sms/create", json={"destination": destination, "phones": phones, **extra},
                             headers=headers)
        assert r.status_code == 200
        first, second = r.json()["result"]
        assert first == {"error": 33, "errorDescription": "Direction not allowed", "reference": f"{destination}a"}
        assert second["error"] == 0 and second["price"] == 0.035
        assert r.json()["total_price"] == 0.035
    assert await phones_of(app_platform, account[0]) == [UNDELIVERED, UNDELIVERED]
    assert await balance(app_platform, account[0]) == before - 2 * SMS_UA

    # every recipient stop-listed: no task, the error at the top and per recipient
    r = await client.put("/rest/sms/create", json={"destination": "phones", "originator": "relaybox", "body": "Hi",
                                                   "phones": [{"msisdn": str(LISTED), "reference": "c"}]}, headers=headers)
    assert r.json() == {"error": 33, "errorDescription": "Direction not allowed",
                        "result": [{"error": 33, "errorDescription": "Direction not allowed", "reference": "c"}]}
    assert len(await phones_of(app_platform, account[0])) == 2


# -- prices: what the send would charge -------------------------------------------------------


async def test_prices_leave_stop_listed_phones_out(client, headers, account, app_platform):
    await stop_list(app_platform, account[0], [LISTED])
    r = await client.post("/api/campaigns/price", json={"sender": "relaybox", "text": "Hi",
                                                        "messages": [{"phone": LISTED}, {"phone": FREE}]}, headers=headers)
    assert r.json() == {"price": 0.035, "currency": "EUR"}
    r = await client.put("/rest/sms/price", json={"destination": "phones", "originator": "relaybox", "body": "Hi",
                                                  "phones": [{"msisdn": str(LISTED)}, {"msisdn": str(FREE)}]},
                         headers=headers)
    assert r.json()["totalprice"] == 0.035
    assert [x["error"] for x in r.json()["result"]] == [33, 0]
    r = await client.put("/rest/sms/price", json={"destination": "phone", "originator": "relaybox", "body": "Hi",
                                                  "msisdn": str(LISTED)}, headers=headers)
    assert r.json() == {"error": 33, "errorDescription": "Direction not allowed"}
    assert await phones_of(app_platform, account[0]) == []
