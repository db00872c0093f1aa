"""A new documented example, dropped into a file named by GRAPH_EXAMPLES, is replayed by the
conformance harness without a recipe written for it.

The examples below are copied from Microsoft's Graph v1.0 reference pages (the request and
response blocks of each page's "Examples" section, unmodified but for the host prefix, as
the corpus README in ../shared/graph-examples describes); none of them is in the shared
corpus. The test writes them to a temporary file, points GRAPH_EXAMPLES at it, and runs the
conformance test over that file in a fresh pytest, as a developer adding an example would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from xml.etree import ElementTree

from tests.conftest import REPO

DOCS = "microsoftgraph/microsoft-graph-docs-contrib/api-reference/v1.0/api/"
EVENTUAL = {"ConsistencyLevel": "eventual"}


def _example(id_: str, method: str, path: str, status: int, response: object = None,
             body: object = None, headers: dict | None = None, api: str = "") -> dict:
    page = id_.split("#")[0]
    return {"id": f"new:{id_}", "api": api or page, "source": f"{DOCS}{page}.md",
            "request": {"method": method, "path": path, "headers": headers or {},
                        "body": body},
            "response": {"status": status, "body": response}}


FRESH = [
    _example("group-list-members#2", "GET", "/groups/{id}/members/$count", 200, 893,
             headers=EVENTUAL),
    _example("group-list-members#4", "GET",
             "/groups/{id}/members/microsoft.graph.user?$count=true&$orderby=displayName"
             "&$search=\"displayName:Pr\"&$select=displayName,id", 200,
             {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users"
                                "(displayName,id)",
              "@odata.count": 7,
              "value": [{"displayName": "Joseph Price",
                         "id": "11111111-2222-3333-4444-555555555555"},
                        {"displayName": "Preston Morales",
                         "id": "66666666-7777-8888-9999-000000000000"}]},
             headers=EVENTUAL),
    _example("group-list-members#5", "GET",
             "/groups/{id}/members?$count=true&$filter=startswith(displayName, 'a')", 200,
             {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#directoryObjects",
              "@odata.count": 76,
              "value": [{"displayName": "AAD Contoso Users",
                         "mail": "AADContoso_Users@contoso.com"}]},
             headers=EVENTUAL),
    _example("user-list-memberof#4", "GET",
             "/users/{id}/memberOf/microsoft.graph.group?$count=true&$orderby=displayName"
             "&$search=\"displayName:tier\"&$select=displayName,id", 200,
             {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#groups"
                                "(displayName,id)",
              "@odata.count": 7,
              "value": [{"displayName": "Contoso-tier Query Notification",
                         "id": "11111111-2222-3333-4444-555555555555"}]},
             headers=EVENTUAL),
    _example("user-list-memberof#5", "GET",
             "/users/{id}/memberOf/microsoft.graph.group?$count=true&$orderby=displayName"
             "&$filter=startswith(displayName, 'a')", 200,
             {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#groups",
              "@odata.count": 76,
              "value": [{"displayName": "AAD Contoso Users",
                         "mail": "AADContoso_Users@contoso.com", "mailEnabled": True,
                         "mailNickname": "AADContoso_Users", "securityEnabled": True}]},
             headers=EVENTUAL),
    _example("group-post-members#1", "POST", "/groups/{group-id}/members/$ref", 204,
             body={"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/{id}"},
             headers={"Content-Type": "application/json"}),
    _example("directoryrole-list-members#2", "GET",
             "/directoryRoles/roleTemplateId=4a5d8f65-41da-4de4-8968-e035b65339cf/members",
             200,
             {"value": [{"businessPhones": ["000-000-0000"], "displayName": "Adele Vance",
                         "givenName": "Adele", "jobTitle": None,
                         "mail": "AdeleV@contoso.com", "officeLocation": None,
                         "preferredLanguage": "en-US", "surname": "Vance",
                         "userPrincipalName": "AdeleV@contoso.com"}]}),
    _example("user-update-mailboxsettings#2", "PATCH", "/me/mailboxSettings", 200,
             {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users("
                                "'94447c6e-ea4c-494c-a9ed-d905e366c5cb')/mailboxSettings",
              "workingHours": {
                  "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday",
                                 "saturday"],
                  "startTime": "09:00:00.0000000", "endTime": "18:30:00.0000000",
                  "timeZone": {"@odata.type": "#microsoft.graph.customTimeZone",
                               "bias": -200, "name": "Customized Time Zone",
                               "standardOffset": {"time": "02:00:00.0000000",
                                                  "dayOccurrence": 4, "dayOfWeek": "sunday",
                                                  "month": 5, "year": 0},
                               "daylightOffset": {"daylightBias": -100,
                                                  "time": "02:00:00.0000000",
                                                  "dayOccurrence": 2, "dayOfWeek": "sunday",
                                                  "month": 10, "year": 0}}}},
             body={"workingHours": {
                 "endTime": "18:30:00.0000000",
                 "daysOfWeek": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
                                "Saturday"],
                 "timeZone": {"@odata.type": "#microsoft.graph.customTimeZone", "bias": -300,
                              "name": "Customized Time Zone",
                              "standardOffset": {"time": "02:00:00.0000000",
                                                 "dayOccurrence": 2, "dayOfWeek": "Sunday",
                                                 "month": 10, "year": 0},
                              "daylightOffset": {"daylightBias": 100,
                                                 "time": "02:00:00.0000000",
                                                 "dayOccurrence": 4, "dayOfWeek": "Sunday",
                                                 "month": 5, "year": 0}}}},
             headers={"Content-Type": "application/json"}),
    _example("group-post-groups#1", "POST", "/groups", 201,
             {"id": "b320ee12-b1cd-4cca-b648-a437be61c5cd", "deletedDateTime": None,
              "classification": None, "createdDateTime": "2018-12-22T00:51:37Z",
              "creationOptions": [], "description": "Self help community for library",
              "displayName": "Library Assist", "groupTypes": ["Unified"],
              "mail": "library7423@contoso.com", "mailEnabled": True,
              "mailNickname": "library", "onPremisesLastSyncDateTime": None,
              "onPremisesSecurityIdentifier": None, "onPremisesSyncEnabled": None,
              "preferredDataLocation": "CAN", "proxyAddresses": ["SMTP:library7423@contoso.com"],
              "renewedDateTime": "2018-12-22T00:51:37Z", "resourceBehaviorOptions": [],
              "resourceProvisioningOptions": [], "securityEnabled": False,
              "visibility": "Public", "onPremisesProvisioningErrors": []},
             body={"description": "Self help community for library",
                   "displayName": "Library Assist", "groupTypes": ["Unified"],
                   "mailEnabled": True, "mailNickname": "library", "securityEnabled": False},
             headers={"Content-type": "application/json"}),
    _example("group-delete#1", "DELETE", "/groups/{id}", 204),
    _example("user-get#3", "GET", "/users/87d349ed-44d7-43e1-9a83-5f2406dee5bd"
             "?$select=displayName,givenName,postalCode,identities", 200,
             {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users(displayName,"
                                "givenName,postalCode,identities)/$entity",
              "displayName": "Adele Vance", "givenName": "Adele", "postalCode": "98004",
              "identities": [{"signInType": "userPrincipalName", "issuer": "contoso.com",
                              "issuerAssignedId": "AdeleV@contoso.com"}]}),
    # The page's JSON has trailing commas after "userType" (removed here, nothing else).
    _example("rbacapplication-list-roleassignments#1", "GET",
             "/roleManagement/directory/roleAssignments?$filter=roleDefinitionId eq "
             "'62e90394-69f5-4237-9190-012177145e10'&$expand=principal", 200,
             {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#roleManagement/"
                                "directory/roleAssignments(principal())",
              "value": [
                  {"id": "lAPpYvVpN0KRkAEhdxReEMmO4KwRqtpKkUWt3wOYIz4-1",
                   "principalId": "ace08ec9-aa11-4ada-9145-addf0398233e",
                   "resourceScope": "/", "directoryScopeId": "/",
                   "roleDefinitionId": "62e90394-69f5-4237-9190-012177145e10",
                   "principal": {"@odata.type": "#microsoft.graph.user",
                                 "id": "ace08ec9-aa11-4ada-9145-addf0398233e",
                                 "accountEnabled": True, "displayName": "Joey Cruz",
                                 "imAddresses": ["joeyc@contoso.com"],
                                 "mail": "joeyc@contoso.com", "mailNickname": "joeyc",
                                 "userType": "Member"}},
                  {"id": "lAPpYvVpN0KRkAEhdxReEC6Xh29-LklLmYDrOIi9z-E-1",
                   "principalId": "6f87972e-2e7e-4b49-9980-eb3888bdcfe1",
                   "resourceScope": "/", "directoryScopeId": "/",
                   "roleDefinitionId": "62e90394-69f5-4237-9190-012177145e10",
                   "principal": {"@odata.type": "#microsoft.graph.user",
                                 "id": "6f87972e-2e7e-4b49-9980-eb3888bdcfe1",
                                 "accountEnabled": True, "displayName": "Kalyan Krishna",
                                 "imAddresses": [], "userType": "Guest"}},
                  {"id": "lAPpYvVpN0KRkAEhdxReEMgc_BA2rIZBuZsM-BSqLdU-1",
                   "principalId": "10fc1cc8-ac36-4186-b99b-0cf814aa2dd5",
                   "resourceScope": "/", "directoryScopeId": "/",
                   "roleDefinitionId": "62e90394-69f5-4237-9190-012177145e10",
                   "principal": {"@odata.type": "#microsoft.graph.user",
                                 "id": "10fc1cc8-ac36-4186-b99b-0cf814aa2dd5",
                                 "accountEnabled": True, "displayName": "Markie Downing",
                                 "imAddresses": [], "userType": "Guest"}}]}),
    _example("user-list-manager#1", "GET", "/users/{id|userPrincipalName}/manager", 200,
             {"id": "7d54cb02-aaa3-4016-9f9c-a4b49422dd9b", "displayName": "Sara Davis",
              "jobTitle": "Finance VP", "mail": "SaraD@contoso.onmicrosoft.com",
              "userPrincipalName": "SaraD@contoso.onmicrosoft.com"}),
    _example("group-get#1", "GET", "/groups/02bd9fd6-8f93-4758-87c3-1fb73740a315", 200,
             {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#groups/$entity",
              "id": "02bd9fd6-8f93-4758-87c3-1fb73740a315", "deletedDateTime": None,
              "classification": None, "createdDateTime": "2017-07-31T18:56:16Z",
              "description": "Welcome to the HR Taskforce team.",
              "displayName": "HR Taskforce", "expirationDateTime": None,
              "groupTypes": ["Unified"], "isAssignableToRole": None,
              "mail": "HRTaskforce@M365x214355.onmicrosoft.com", "mailEnabled": True,
              "mailNickname": "HRTaskforce", "membershipRule": None,
              "membershipRuleProcessingState": None, "onPremisesDomainName": None,
              "onPremisesLastSyncDateTime": None, "onPremisesNetBiosName": None,
              "onPremisesSamAccountName": None, "onPremisesSecurityIdentifier": None,
              "onPremisesSyncEnabled": None, "preferredDataLocation": None,
              "preferredLanguage": None,
              "proxyAddresses": ["SMTP:HRTaskforce@M365x214355.onmicrosoft.com",
                                 "SPO:SPO_896cf652-b200-4b74-8111-c013f64406cf@SPO_dcd219dd-"
                                 "bc68-4b9b-bf0b-4a33a796be35"],
              "renewedDateTime": "2020-01-24T19:01:14Z", "resourceBehaviorOptions": [],
              "resourceProvisioningOptions": ["Team"], "securityEnabled": False,
              "securityIdentifier": "S-1-12-1-45981654-1196986259-3072312199-363020343",
              "theme": None, "visibility": "Private", "onPremisesProvisioningErrors": []}),
    _example("directory-deleteditems-list#2", "GET",
             "/directory/deletedItems/microsoft.graph.group?$count=true"
             "&$orderBy=deletedDateTime asc&$select=id,DisplayName,deletedDateTime", 200,
             {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#groups(id,"
                                "displayName,deletedDateTime)",
              "@odata.count": 2,
              "value": [{"id": "c31799b8-0683-4d70-9e91-e032c89d3035",
                         "displayName": "Role assignable group",
                         "deletedDateTime": "2021-10-26T16:56:36Z"},
                        {"id": "74e45ce0-a52a-4766-976c-7201b0f99370",
                         "displayName": "Role assignable group",
                         "deletedDateTime": "2021-10-26T16:58:37Z"}]},
             headers=EVENTUAL),
]


def test_fresh_documented_examples_replay_without_a_recipe(tmp_path):
    examples = tmp_path / "fresh-examples.json"
    examples.write_text(json.dumps(FRESH), encoding="utf-8")
    report = tmp_path / "report.xml"
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         f"--junitxml={report}", "tests/test_conformance.py", "-k", "answers_as_documented"],
        cwd=REPO, env={**os.environ, "GRAPH_EXAMPLES": str(examples)},
        capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-4000:]
    cases = ElementTree.parse(report).getroot().iter("testcase")
    outcomes = {case.get("name", ""): [child.tag for child in case] for case in cases}
    assert sorted(outcomes) == sorted(f"test_the_emulator_answers_as_documented[{e['id']}]"
                                      for e in FRESH)
    assert all(tags == [] for tags in outcomes.values()), outcomes  # none failed or skipped
