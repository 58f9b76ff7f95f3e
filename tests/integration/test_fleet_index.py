# SPDX-License-Identifier: MIT
"""Fleet indexing through boto3 and the AWS CLI: Update/GetIndexingConfiguration,
DescribeIndex, ListIndices, SearchIndex on AWS_Things (registry, attributes,
groups, classic and named shadows, connectivity from real paho clients,
Device Defender after a Detect violation on the manual clock) and on
AWS_ThingGroups, paging, the four aggregations, and every error as the
clients report it."""
import json

import paho.mqtt.client as mqtt
import pytest

from conftest import all_pages, cli_error, http, wait_for

REGISTRY = {"thingIndexingMode": "REGISTRY"}
EVERYTHING = {"thingIndexingMode": "REGISTRY_AND_SHADOW",
              "thingConnectivityIndexingMode": "STATUS",
              "deviceDefenderIndexingMode": "VIOLATIONS",
              "namedShadowIndexingMode": "ON",
              "filter": {"namedShadowNames": ["cfg"]}}


def error_of(e):
    return (e.value.response["Error"]["Code"], e.value.response["Error"]["Message"],
            e.value.response["ResponseMetadata"]["HTTPStatusCode"])


def names(page):
    return [t["thingName"] for t in page["things"]]


def search(iot, query, **kw):
    return names(iot.search_index(queryString=query, **kw))


def fleet(emu, iot):
    """pump-1 (type Pump, temp 77, group plant1), pump-2 (temp 60),
    valve-1 (no attributes); classic shadows on the pumps, a named one
    on pump-2."""
    iot.create_thing_type(thingTypeName="Pump")
    iot.create_thing(thingName="pump-1", thingTypeName="Pump",
                     attributePayload={"attributes": {"temp": "77", "fw": "2.1.0"}})
    iot.create_thing(thingName="pump-2",
                     attributePayload={"attributes": {"temp": "60", "fw": "1.0"}})
    iot.create_thing(thingName="valve-1")
    iot.create_thing_group(thingGroupName="plant1")
    iot.add_thing_to_thing_group(thingGroupName="plant1", thingName="pump-1")
    data = emu.client("iot-data")
    data.update_thing_shadow(thingName="pump-1", payload=json.dumps(
        {"state": {"reported": {"stats": {"battery": 80}, "on": True, "v": [1, 2, 3]},
                   "desired": {"on": False}}}))
    data.update_thing_shadow(thingName="pump-2", payload=json.dumps(
        {"state": {"reported": {"stats": {"battery": 20}}}}))
    data.update_thing_shadow(thingName="pump-2", shadowName="cfg", payload=json.dumps(
        {"state": {"desired": {"filament": "pla"}}}))


def test_configuration_defaults_update_and_get(emu, iot):
    got = iot.get_indexing_configuration()
    assert got["thingIndexingConfiguration"]["thingIndexingMode"] == "OFF"
    assert got["thingIndexingConfiguration"]["thingConnectivityIndexingMode"] == "OFF"
    assert got["thingGroupIndexingConfiguration"] == {"thingGroupIndexingMode": "OFF"}
    assert "managedFields" not in got["thingIndexingConfiguration"]

    iot.update_indexing_configuration(
        thingIndexingConfiguration=dict(EVERYTHING, customFields=[
            {"name": "attributes.temp", "type": "Number"},
            {"name": "shadow.reported.stats.battery", "type": "Number"}]),
        thingGroupIndexingConfiguration={"thingGroupIndexingMode": "ON"})
    t = iot.get_indexing_configuration()["thingIndexingConfiguration"]
    assert t["thingIndexingMode"] == "REGISTRY_AND_SHADOW"
    assert t["thingConnectivityIndexingMode"] == "STATUS"
    assert t["deviceDefenderIndexingMode"] == "VIOLATIONS"
    assert t["namedShadowIndexingMode"] == "ON"
    assert t["filter"] == {"namedShadowNames": ["cfg"]}
    assert t["customFields"] == [{"name": "attributes.temp", "type": "Number"},
                                 {"name": "shadow.reported.stats.battery", "type": "Number"}]
    managed = {f["name"]: f["type"] for f in t["managedFields"]}
    assert managed["thingName"] == "String"
    assert managed["registry.version"] == "Number"
    assert managed["shadow.hasDelta"] == "Boolean"
    assert managed["shadow.name.*.hasDelta"] == "Boolean"
    assert managed["connectivity.connected"] == "Boolean"
    assert managed["deviceDefender.violationCount"] == "Number"
    g = iot.get_indexing_configuration()["thingGroupIndexingConfiguration"]
    assert g["thingGroupIndexingMode"] == "ON"
    assert {f["name"] for f in g["managedFields"]} >= {"thingGroupName", "parentGroupNames"}

    # Dropping the shadow while a custom field needs it fails whole.
    with pytest.raises(iot.exceptions.InvalidRequestException) as e:
        iot.update_indexing_configuration(thingIndexingConfiguration=REGISTRY)
    assert "shadow.reported.stats.battery" in error_of(e)[1]
    assert iot.get_indexing_configuration()["thingIndexingConfiguration"][
        "thingIndexingMode"] == "REGISTRY_AND_SHADOW"
    # Turning the index off drops its custom fields (and is allowed with them).
    iot.update_indexing_configuration(
        thingIndexingConfiguration={"thingIndexingMode": "OFF"},
        thingGroupIndexingConfiguration={"thingGroupIndexingMode": "OFF"})
    t = iot.get_indexing_configuration()["thingIndexingConfiguration"]
    assert t["thingIndexingMode"] == "OFF" and "customFields" not in t
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.search_index(queryString="*")


@pytest.mark.parametrize("config, words", [
    ({"thingIndexingMode": "SOMETIMES"}, "Member must satisfy enum value set"),
    ({"thingIndexingMode": "OFF", "thingConnectivityIndexingMode": "STATUS"},
     "must be OFF when thingIndexingMode is OFF"),
    ({"thingIndexingMode": "REGISTRY", "deviceDefenderIndexingMode": "ALWAYS"},
     "Member must satisfy enum value set"),
    ({"thingIndexingMode": "REGISTRY", "customFields": [{"name": "thingName", "type": "String"}]},
     "is a managed field"),
    ({"thingIndexingMode": "REGISTRY",
      "customFields": [{"name": "shadow.reported.x", "type": "Number"}]},
     "not allowed by the indexing configuration"),
    ({"thingIndexingMode": "REGISTRY", "customFields": [{"name": "attributes.x", "type": "Int"}]},
     "Member must satisfy enum value set"),
    ({"thingIndexingMode": "REGISTRY", "namedShadowIndexingMode": "ON",
      "filter": {"namedShadowNames": ["n%d" % i for i in range(11)]}}, "more than 10"),
])
def test_configuration_errors(emu, iot, config, words):
    with pytest.raises(iot.exceptions.InvalidRequestException) as e:
        iot.update_indexing_configuration(thingIndexingConfiguration=config)
    code, message, status = error_of(e)
    assert (code, status) == ("InvalidRequestException", 400)
    assert words in message
    assert iot.get_indexing_configuration()["thingIndexingConfiguration"][
        "thingIndexingMode"] == "OFF"


@pytest.mark.parametrize("config, schema", [
    ({"thingIndexingMode": "REGISTRY"}, "REGISTRY"),
    ({"thingIndexingMode": "REGISTRY_AND_SHADOW"}, "REGISTRY_AND_SHADOW"),
    ({"thingIndexingMode": "REGISTRY", "thingConnectivityIndexingMode": "STATUS"},
     "REGISTRY_AND_CONNECTIVITY_STATUS"),
    ({"thingIndexingMode": "REGISTRY_AND_SHADOW", "thingConnectivityIndexingMode": "STATUS"},
     "REGISTRY_AND_SHADOW_AND_CONNECTIVITY_STATUS"),
    ({"thingIndexingMode": "REGISTRY", "deviceDefenderIndexingMode": "VIOLATIONS"},
     "MULTI_INDEXING_MODE"),
    ({"thingIndexingMode": "REGISTRY", "namedShadowIndexingMode": "ON"}, "MULTI_INDEXING_MODE"),
])
def test_describe_index_schema(emu, iot, config, schema):
    iot.update_indexing_configuration(thingIndexingConfiguration=config)
    d = iot.describe_index(indexName="AWS_Things")
    assert (d["indexName"], d["indexStatus"], d["schema"]) == ("AWS_Things", "ACTIVE", schema)


def test_describe_and_list_indices(emu, iot):
    for index in ("AWS_Things", "AWS_ThingGroups", "Other"):
        with pytest.raises(iot.exceptions.ResourceNotFoundException) as e:
            iot.describe_index(indexName=index)
        assert error_of(e) == ("ResourceNotFoundException",
                               "Index %s does not exist" % index, 404)
    with pytest.raises(iot.exceptions.InvalidRequestException) as e:
        iot.describe_index(indexName="bad/name")
    assert "regular expression pattern" in error_of(e)[1]
    assert iot.list_indices()["indexNames"] == []

    iot.update_indexing_configuration(
        thingIndexingConfiguration=REGISTRY,
        thingGroupIndexingConfiguration={"thingGroupIndexingMode": "ON"})
    assert iot.describe_index(indexName="AWS_ThingGroups")["schema"] == "THING_GROUPS"
    assert iot.list_indices()["indexNames"] == ["AWS_Things", "AWS_ThingGroups"]
    got, pages = all_pages(iot.list_indices, "indexNames", maxResults=1)
    assert (got, pages) == (["AWS_Things", "AWS_ThingGroups"], 2)
    out = emu.aws_json("iot", "describe-index", "--index-name", "AWS_Things")
    assert out["schema"] == "REGISTRY"
    assert emu.aws_json("iot", "list-indices")["indexNames"] == ["AWS_Things", "AWS_ThingGroups"]
    err = cli_error(emu, "iot", "describe-index", "--index-name", "AWS_Nope")
    assert "(ResourceNotFoundException)" in err and "Index AWS_Nope does not exist" in err


def test_search_errors(emu, iot):
    with pytest.raises(iot.exceptions.ResourceNotFoundException) as e:
        iot.search_index(queryString="*")
    assert error_of(e) == ("ResourceNotFoundException", "Index AWS_Things does not exist", 404)
    iot.update_indexing_configuration(thingIndexingConfiguration=REGISTRY)
    with pytest.raises(iot.exceptions.ResourceNotFoundException) as e:
        iot.search_index(indexName="AWS_ThingGroups", queryString="*")
    assert error_of(e)[1] == "Index AWS_ThingGroups does not exist"
    with pytest.raises(iot.exceptions.InvalidQueryException) as e:
        iot.search_index(queryString="thingNam:x")
    assert error_of(e) == ("InvalidQueryException",
                           "Unable to parse query, invalid field name, field name: thingNam, "
                           "query string: thingNam:x", 400)
    with pytest.raises(iot.exceptions.InvalidQueryException) as e:
        iot.search_index(queryString="thingName:(a")
    assert "expected ) at character 13" in error_of(e)[1]
    for bad in ({"maxResults": 501}, {"queryVersion": "2020-01-01"},
                {"nextToken": "notatoken"}):
        with pytest.raises(iot.exceptions.InvalidRequestException):
            iot.search_index(queryString="*", **bad)
    status, headers, body = http("POST", emu.endpoint + "/indices/search",
                                 json.dumps({"queryString": "*", "maxResults": 0}),
                                 {"Content-Type": "application/json"})
    assert (status, headers.get("x-amzn-ErrorType")) == (400, "InvalidRequestException")
    err = cli_error(emu, "iot", "search-index", "--query-string", "a AND")
    assert "(InvalidQueryException)" in err


def test_search_registry_fields_and_paging(emu, iot):
    fleet(emu, iot)
    iot.create_billing_group(billingGroupName="b1")
    iot.add_thing_to_billing_group(billingGroupName="b1", thingName="pump-2")
    iot.update_indexing_configuration(thingIndexingConfiguration=REGISTRY)
    assert search(iot, "*") == ["pump-1", "pump-2", "valve-1"]
    assert search(iot, "thingName:pump*") == ["pump-1", "pump-2"]
    assert search(iot, "thingName:*-1") == ["pump-1", "valve-1"]
    assert search(iot, "thingTypeName:Pump") == ["pump-1"]
    assert search(iot, "thingGroupNames:plant1") == ["pump-1"]
    assert search(iot, "thingGroupNames:b1") == ["pump-2"]
    assert search(iot, "attributes.temp:[60 TO 70]") == ["pump-2"]
    assert search(iot, "attributes.temp>60 OR NOT attributes.fw:*") == ["pump-1", "valve-1"]
    assert search(iot, "attributes.fw:2.1.0") == ["pump-1"]
    assert search(iot, "shadow.reported.stats.battery:*") == []  # shadows are not indexed

    doc = iot.search_index(queryString="thingName:pump-1")["things"][0]
    thing = iot.describe_thing(thingName="pump-1")
    assert doc == {"thingName": "pump-1", "thingId": thing["thingId"], "thingTypeName": "Pump",
                   "thingGroupNames": ["plant1"], "attributes": {"temp": "77", "fw": "2.1.0"}}
    assert "thingGroupNames" not in iot.search_index(queryString="thingName:valve-1")["things"][0]

    got, pages = all_pages(iot.search_index, "things", queryString="thingName:*", maxResults=1)
    assert ([t["thingName"] for t in got], pages) == (["pump-1", "pump-2", "valve-1"], 3)
    page = iot.search_index(queryString="*", maxResults=2)
    assert names(page) == ["pump-1", "pump-2"] and page["nextToken"]
    # a token belongs to its query
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.search_index(queryString="thingName:*", nextToken=page["nextToken"])
    # the index follows the registry at once
    iot.delete_thing(thingName="valve-1")
    iot.update_thing(thingName="pump-2", attributePayload={"attributes": {"temp": "99"}})
    assert search(iot, "attributes.temp>90") == ["pump-2"]
    assert search(iot, "*") == ["pump-1", "pump-2"]

    out = emu.aws_json("iot", "search-index", "--query-string", "thingName:pump*")
    assert [t["thingName"] for t in out["things"]] == ["pump-1", "pump-2"]


def test_search_dotted_attribute_names(emu, iot):
    """An attribute name may hold dots (the model's pattern admits them), so
    attributes.other.key is a field like any other (moto's
    test_search_logical_operators asks for it)."""
    iot.create_thing(thingName="t1", attributePayload={"attributes": {"other.key": "value"}})
    iot.create_thing(thingName="t2", attributePayload={"attributes": {"other": "value"}})
    iot.update_indexing_configuration(thingIndexingConfiguration=REGISTRY)
    assert search(iot, "attributes.other.key:value") == ["t1"]
    assert search(iot, "attributes.other:value") == ["t2"]
    assert search(iot, "attributes.other.missing:value OR thingName:t2") == ["t2"]
    for bad in ("attributes.other..key:value", "attributes.other.:value"):
        with pytest.raises(iot.exceptions.InvalidQueryException) as e:
            iot.search_index(queryString=bad)
        assert error_of(e)[1].startswith("Unable to parse query, invalid field name, field name: ")


def test_search_shadow_fields_and_document(emu, iot):
    fleet(emu, iot)
    emu.client("iot-data").update_thing_shadow(thingName="ghost", payload=json.dumps(
        {"state": {"reported": {"stats": {"battery": 99}}}}))
    iot.update_indexing_configuration(thingIndexingConfiguration={
        "thingIndexingMode": "REGISTRY_AND_SHADOW", "namedShadowIndexingMode": "ON",
        "filter": {"namedShadowNames": ["cfg"]}})
    assert search(iot, "shadow.reported.stats.battery:{70 TO 100}") == ["pump-1"]
    assert search(iot, "shadow.reported.stats.battery<50") == ["pump-2"]
    assert search(iot, "shadow.reported.v:2") == ["pump-1"]
    assert search(iot, "shadow.hasDelta:true") == ["pump-1"]
    assert search(iot, "shadow.desired.on:false AND shadow.reported.on:true") == ["pump-1"]
    assert search(iot, "shadow.name.cfg.desired.filament:pla") == ["pump-2"]
    assert search(iot, "shadow.name.cfg.hasDelta:true") == ["pump-2"]
    assert search(iot, "pla") == ["pump-2"]
    assert search(iot, "shadow.reported.location:* NOT shadow.desired.stats.battery:*") == []

    doc = iot.search_index(queryString="thingName:pump-2")["things"][0]
    shadow = json.loads(doc["shadow"])
    assert shadow["reported"] == {"stats": {"battery": 20}}
    assert shadow["version"] == 1
    assert "reported" in shadow["metadata"]
    assert shadow["name"]["cfg"]["desired"] == {"filament": "pla"}
    assert "deviceDefender" not in doc and "connectivity" not in doc


def test_connectivity_from_real_mqtt_clients(emu, iot):
    fleet(emu, iot)
    iot.update_indexing_configuration(thingIndexingConfiguration={
        "thingIndexingMode": "REGISTRY", "thingConnectivityIndexingMode": "STATUS"})
    assert search(iot, "connectivity.connected:false") == ["pump-1", "pump-2", "valve-1"]
    assert iot.search_index(queryString="thingName:valve-1")["things"][0]["connectivity"] == {
        "connected": False}

    start = emu.clock()["now"] * 1000
    c1 = emu.mqtt_start(mqtt.Client(client_id="pump-1", protocol=mqtt.MQTTv311))
    c2 = emu.mqtt_start(mqtt.Client(client_id="pump-2", protocol=mqtt.MQTTv311))
    try:
        assert wait_for(lambda: search(iot, "connectivity.connected:true") == ["pump-1", "pump-2"])
        emu.advance(60)
        c2.disconnect()
        c2.loop_stop()
        assert wait_for(lambda: search(iot, "connectivity.connected:true") == ["pump-1"])
        conn = iot.search_index(queryString="thingName:pump-2")["things"][0]["connectivity"]
        assert conn["connected"] is False
        assert conn["disconnectReason"] == "CLIENT_INITIATED_DISCONNECT"
        assert conn["timestamp"] >= start + 60000
        assert search(iot, "connectivity.disconnectReason:CLIENT_INITIATED_DISCONNECT") == [
            "pump-2"]
        assert search(iot, "connectivity.connected:true AND connectivity.timestamp<%d"
                      % (start + 60000)) == ["pump-1"]
        on = iot.search_index(queryString="thingName:pump-1")["things"][0]["connectivity"]
        assert on["connected"] is True and "disconnectReason" not in on
    finally:
        c1.disconnect()
        c1.loop_stop()


def test_device_defender_fields_after_a_violation(emu, iot):
    fleet(emu, iot)
    iot.update_indexing_configuration(thingIndexingConfiguration={
        "thingIndexingMode": "REGISTRY", "deviceDefenderIndexingMode": "VIOLATIONS"})
    iot.create_security_profile(securityProfileName="SP1", behaviors=[{
        "name": "msgs", "metric": "aws:num-messages-sent",
        "criteria": {"comparisonOperator": "less-than", "value": {"count": 2},
                     "durationSeconds": 300}}])
    iot.attach_security_profile(
        securityProfileName="SP1",
        securityProfileTargetArn="arn:aws:iot:us-east-1:123456789012:all/things")
    emu.sync()
    assert search(iot, "deviceDefender.violationCount:0") == ["pump-1", "pump-2", "valve-1"]
    dev = emu.mqtt_start(mqtt.Client(client_id="pump-1", protocol=mqtt.MQTTv311))
    try:
        for _ in range(3):
            dev.publish("t", b"x", qos=1).wait_for_publish(timeout=5)
        end = emu.advance(300)["now"] * 1000
    finally:
        dev.disconnect()
        dev.loop_stop()
    assert search(iot, "deviceDefender.SP1.msgs.inViolation:true") == ["pump-1"]
    assert search(iot, "deviceDefender.violationCount:[1 TO 100]") == ["pump-1"]
    assert search(iot, "deviceDefender.SP1.msgs.lastViolationValue.count>2") == ["pump-1"]
    assert search(iot, "deviceDefender.SP1.msgs.metricName:aws\\:num-messages-sent") == ["pump-1"]
    doc = iot.search_index(queryString="thingName:pump-1")["things"][0]
    dd = json.loads(doc["deviceDefender"])
    assert dd["violationCount"] == 1
    behavior = dd["SP1"]["msgs"]
    assert behavior["inViolation"] is True
    assert behavior["metricName"] == "aws:num-messages-sent"
    assert behavior["lastViolationValue"] == {"count": 3}
    assert behavior["lastViolationTime"] <= end
    with pytest.raises(iot.exceptions.InvalidQueryException):
        iot.search_index(queryString="deviceDefender.SP1.msgs.inViolation:false")


def test_thing_group_index(emu, iot):
    iot.create_thing_group(thingGroupName="plant1", thingGroupProperties={
        "thingGroupDescription": "first plant",
        "attributePayload": {"attributes": {"site": "north"}}})
    iot.create_thing_group(thingGroupName="line-a", parentGroupName="plant1")
    iot.create_thing_group(thingGroupName="line-b", parentGroupName="line-a")
    iot.create_thing_group(thingGroupName="other")
    iot.update_indexing_configuration(
        thingGroupIndexingConfiguration={"thingGroupIndexingMode": "ON"})
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.search_index(queryString="*")  # things are not indexed

    def groups(q, **kw):
        page = iot.search_index(indexName="AWS_ThingGroups", queryString=q, **kw)
        assert page["things"] == []
        return [g["thingGroupName"] for g in page["thingGroups"]]

    assert groups("*") == ["line-a", "line-b", "other", "plant1"]
    assert groups("parentGroupNames:plant1") == ["line-a", "line-b"]
    assert groups("parentGroupNames:(line-a OR other)") == ["line-b"]
    assert groups("thingGroupName:line*") == ["line-a", "line-b"]
    assert groups("thingGroupNames:other") == ["other"]
    assert groups("attributes.site:north AND description:plant") == ["plant1"]
    doc = iot.search_index(indexName="AWS_ThingGroups",
                           queryString="thingGroupName:line-b")["thingGroups"][0]
    described = iot.describe_thing_group(thingGroupName="line-b")
    assert doc == {"thingGroupName": "line-b", "thingGroupId": described["thingGroupId"],
                   "attributes": {}, "parentGroupNames": ["plant1", "line-a"]}
    assert iot.search_index(indexName="AWS_ThingGroups", queryString="thingGroupName:plant1")[
        "thingGroups"][0]["thingGroupDescription"] == "first plant"
    got, pages = all_pages(iot.search_index, "thingGroups", indexName="AWS_ThingGroups",
                           queryString="*", maxResults=3)
    assert (len(got), pages) == (4, 2)
    with pytest.raises(iot.exceptions.InvalidQueryException):
        iot.search_index(indexName="AWS_ThingGroups", queryString="thingTypeName:x")


def numeric_fleet(emu, iot, values):
    iot.update_indexing_configuration(thingIndexingConfiguration={
        "thingIndexingMode": "REGISTRY",
        "customFields": [{"name": "attributes.temp", "type": "Number"},
                         {"name": "attributes.site", "type": "String"},
                         {"name": "attributes.ok", "type": "Boolean"}]})
    for i, v in enumerate(values):
        iot.create_thing(thingName="t%02d" % i, attributePayload={"attributes": {
            "temp": str(v), "site": "north" if i % 3 else "south"}})


def test_statistics(emu, iot):
    numeric_fleet(emu, iot, [-125, 75, 150])
    st = iot.get_statistics(queryString="*", aggregationField="attributes.temp")["statistics"]
    assert st["count"] == 3 and st["sum"] == 100 and st["minimum"] == -125
    assert st["maximum"] == 150
    assert st["average"] == pytest.approx(33.3333, abs=1e-3)
    assert st["sumOfSquares"] == 125 ** 2 + 75 ** 2 + 150 ** 2
    assert st["variance"] == pytest.approx(13472.22, abs=0.01)
    assert st["stdDeviation"] == pytest.approx(116.07, abs=0.01)
    # the default field is registry.version
    assert iot.get_statistics(queryString="thingName:t0*")["statistics"]["count"] == 3
    assert iot.get_statistics(queryString="attributes.temp>0", aggregationField="attributes.site")[
        "statistics"] == {"count": 2}
    assert iot.get_statistics(queryString="thingName:none",
                              aggregationField="attributes.temp")["statistics"] == {"count": 0}
    out = emu.aws_json("iot", "get-statistics", "--query-string", "*",
                       "--aggregation-field", "attributes.temp")
    assert out["statistics"]["maximum"] == 150
    with pytest.raises(iot.exceptions.InvalidAggregationException) as e:
        iot.get_statistics(queryString="*", aggregationField="attributes.unknown")
    assert error_of(e)[0::2] == ("InvalidAggregationException", 400)
    with pytest.raises(iot.exceptions.InvalidQueryException):
        iot.get_statistics(queryString="(", aggregationField="attributes.temp")


def interpolate(v, p):
    """Linear interpolation at rank p/100 * (n - 1), numpy's default."""
    rank = p / 100 * (len(v) - 1)
    k = int(rank)
    return v[k] + (rank - k) * (v[min(k + 1, len(v) - 1)] - v[k])


def test_cardinality_percentiles_buckets(emu, iot):
    values = [46.5, 58.9, 65.2, 70.5, 71.0, 76.0, 88.0, 90.0, 95.0, 100.0]
    numeric_fleet(emu, iot, values)
    card = iot.get_cardinality(queryString="*", aggregationField="attributes.site")
    assert card["cardinality"] == 2
    assert iot.get_cardinality(queryString="thingName:none",
                               aggregationField="attributes.site")["cardinality"] == 0
    got = iot.get_percentiles(queryString="*", aggregationField="attributes.temp",
                              percents=[10, 25, 50, 75, 90])["percentiles"]
    want = {p: interpolate(sorted(values), p) for p in (10, 25, 50, 75, 90)}
    assert want[50] == pytest.approx(73.5)
    assert {p["percent"]: p["value"] for p in got} == pytest.approx(want)
    assert [p["percent"] for p in iot.get_percentiles(
        queryString="*", aggregationField="attributes.temp")["percentiles"]] == [
            1, 5, 25, 50, 75, 95, 99]
    assert iot.get_percentiles(queryString="thingName:none", aggregationField="attributes.temp")[
        "percentiles"] == []
    with pytest.raises(iot.exceptions.InvalidAggregationException):
        iot.get_percentiles(queryString="*", aggregationField="attributes.site")

    b = iot.get_buckets_aggregation(queryString="*", aggregationField="attributes.site",
                                    bucketsAggregationType={"termsAggregation": {"maxBuckets": 5}})
    assert b["totalCount"] == 10
    assert b["buckets"] == [{"keyValue": "north", "count": 6}, {"keyValue": "south", "count": 4}]
    one = iot.get_buckets_aggregation(
        queryString="attributes.temp>90", aggregationField="attributes.temp",
        bucketsAggregationType={"termsAggregation": {"maxBuckets": 1}})
    assert one == {"totalCount": 2, "buckets": [{"keyValue": "100", "count": 1}],
                   "ResponseMetadata": one["ResponseMetadata"]}
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.get_buckets_aggregation(queryString="*", aggregationField="attributes.site",
                                    bucketsAggregationType={"termsAggregation": {
                                        "maxBuckets": 10001}})
    out = emu.aws_json("iot", "get-cardinality", "--query-string", "*",
                       "--aggregation-field", "attributes.site")
    assert out["cardinality"] == 2


def test_aggregations_on_thing_groups(emu, iot):
    iot.update_indexing_configuration(thingGroupIndexingConfiguration={
        "thingGroupIndexingMode": "ON",
        "customFields": [{"name": "attributes.floor", "type": "Number"}]})
    for i, floor in enumerate(["1", "2", "2", "x"]):
        iot.create_thing_group(thingGroupName="g%d" % i, thingGroupProperties={
            "attributePayload": {"attributes": {"floor": floor}}})
    iot.update_thing_group(thingGroupName="g0", thingGroupProperties={
        "thingGroupDescription": "first"})
    st = iot.get_statistics(indexName="AWS_ThingGroups", queryString="*",
                            aggregationField="attributes.floor")["statistics"]
    assert (st["count"], st["sum"], st["maximum"]) == (3, 5, 2)  # "x" is not a number
    # the default field of the group index is its version
    st = iot.get_statistics(indexName="AWS_ThingGroups", queryString="*")["statistics"]
    assert (st["count"], st["sum"]) == (4, 5)
    b = iot.get_buckets_aggregation(indexName="AWS_ThingGroups", queryString="*",
                                    aggregationField="thingGroupName",
                                    bucketsAggregationType={"termsAggregation": {}})
    assert b["totalCount"] == 4 and len(b["buckets"]) == 4
    with pytest.raises(iot.exceptions.InvalidAggregationException):
        iot.get_cardinality(indexName="AWS_ThingGroups", queryString="*",
                            aggregationField="registry.version")
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.get_cardinality(queryString="*", aggregationField="thingName")
