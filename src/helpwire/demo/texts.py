"""What the demo's people write: subjects, Markdown bodies and replies, per kind of problem.

Every text is a ``str.format`` template. Its slots ({project}, {invoice}, ...) are filled
from one dictionary per ticket (plans.slot_values), so that the subject, the first message
and the replies of a ticket talk about the same invoice, endpoint or region. Literal braces
are doubled. A test renders every template, so a misspelt slot fails there, not in a demo.
"""

from __future__ import annotations

from dataclasses import dataclass

from helpwire.tickets.models import TicketType


@dataclass(frozen=True)
class Opening:
    """How a ticket starts: its type, subject and first message."""

    type: TicketType
    subject: str
    body: str


@dataclass(frozen=True)
class Family:
    """The texts of one kind of problem (billing, network, ...)."""

    openings: tuple[Opening, ...]
    # Support asks for something it needs; the ticket then waits on the customer.
    questions: tuple[str, ...]
    # The customer answers a question or adds what they found.
    details: tuple[str, ...]
    # Support's answer that solves it.
    answers: tuple[str, ...]
    # Staff-only notes: what was checked, who was asked.
    notes: tuple[str, ...]
    tags: tuple[str, ...]
    # The page of the customer's application the ticket was filed from.
    location_path: str


Q, INC, PROB, BUG, TASK, IDEA = (
    TicketType.QUESTION,
    TicketType.INCIDENT,
    TicketType.PROBLEM,
    TicketType.BUG,
    TicketType.TASK,
    TicketType.SUGGESTION,
)

BILLING = Family(
    openings=(
        Opening(
            Q,
            "Invoice {invoice} charged twice",
            "Hello,\n\nour card was charged **twice** for invoice `{invoice}` "
            "({amount} EUR each, on {day}). The bank statement shows:\n\n"
            "| Date | Amount | Reference |\n|---|---|---|\n"
            "| {day} | {amount} EUR | {invoice} |\n| {day} | {amount} EUR | {invoice} |\n\n"
            "Could you refund the second charge?\n\nThanks,\n{customer_first}",
        ),
        Opening(
            Q,
            "VAT number missing on our invoices",
            "Hi,\n\nour accounting department noticed that the invoices for **{company}** "
            "do not show our VAT number `{vat}`. We entered it in the billing settings "
            "last month.\n\nCan you re-issue invoice {invoice} with the VAT number on it?",
        ),
        Opening(
            Q,
            "How is the {plan} plan billed when we add seats mid-month?",
            "Hello,\n\nwe plan to add **{count} seats** to project *{project}* in the "
            "middle of the month. Is that billed pro rata, or from the next period?\n\n"
            "Best regards,\n{customer_first}",
        ),
        Opening(
            BUG,
            'Payment page fails with "card declined" for a valid card',
            "The payment page says *card declined* although the card works everywhere "
            "else. Steps:\n\n1. Open **Billing → Payment methods**\n2. Add a Visa card\n"
            "3. Confirm with 3-D Secure\n\nThe error appears right after the confirmation:\n\n"
            "```\nPaymentError: card_declined (request {request_ref})\n```",
        ),
        Opening(
            TASK,
            "Please switch {company} to yearly billing",
            "Hi,\n\nplease switch our account from monthly to **yearly** billing on the "
            "{plan} plan, starting with the next period. Send the invoice to "
            "billing@{domain}.\n\nThank you!",
        ),
        Opening(
            IDEA,
            "Invoices as CSV export",
            "It would help us a lot to export all invoices of a year as **CSV** (number, "
            "date, net, VAT, total). Today we copy them by hand from the PDF files.",
        ),
    ),
    questions=(
        "Thanks for reaching out, {customer_first}. Could you send us the last four digits "
        "of the card and the exact time of both charges? Then we can find them with the "
        "payment provider.",
        "Could you tell us which billing contact should receive the corrected invoice?",
        "To check this I need the **project** the seats belong to. Is it *{project}*?",
    ),
    details=(
        "The card ends in {digits}; both charges were at about {hour}:{minute:02d} UTC.",
        "Please send it to billing@{domain}, and keep me in copy.",
        "Yes, it is *{project}*. We would add the seats on the 15th.",
        "Here is the reference from our bank: `{request_ref}`.",
    ),
    answers=(
        "I found the duplicate charge and refunded **{amount} EUR**. Depending on your bank "
        "it shows up within 3 to 5 business days. Sorry for the trouble!",
        "Invoice {invoice} has been re-issued with VAT number `{vat}`; you can download it "
        "under **Billing → Invoices**.",
        "Seats added mid-month are billed **pro rata** for the remaining days, and in full "
        "from the next period. Details: https://docs.helpwire.example/billing/seats",
        "Done: {company} is on yearly billing from the next period. The first yearly invoice "
        "goes to billing@{domain}.",
    ),
    notes=(
        "Payment provider shows two captures for {invoice}; the second one is a retry after "
        "a timeout. Refund approved by finance.",
        "Customer is on the {plan} plan with a custom discount; check with finance before "
        "promising anything.",
        "Known issue with 3-D Secure on the payment page, tracked as BILL-{digits}.",
    ),
    tags=("billing", "refund", "invoice", "vat"),
    location_path="/billing/invoices",
)

NETWORK = Family(
    openings=(
        Opening(
            INC,
            "Load balancer in {region} returns 502 for {project}",
            "Since about {hour}:{minute:02d} UTC our load balancer in **{region}** answers "
            "`502 Bad Gateway` for roughly {percent} % of requests.\n\n"
            "```\n$ curl -sI https://{project}.{domain}/health\nHTTP/2 502\n"
            "x-request-id: {request_ref}\n```\n\nThe backends themselves are healthy. "
            "This affects our customers right now.",
        ),
        Opening(
            PROB,
            "DNS changes for {domain} take hours to propagate",
            "We changed the A record of `www.{domain}` to `{ip}` at {hour}:00, and some "
            "resolvers still return the old address. TTL is 300 s.\n\n"
            "Is there a cache on your side we can flush?",
        ),
        Opening(
            INC,
            "VPN tunnel to our office keeps dropping",
            "The site-to-site VPN between project *{project}* and our office drops every "
            "few minutes. The log on our side says:\n\n"
            "```\nIKE_SA rekeying failed: NO_PROPOSAL_CHOSEN\n```\n\n"
            "Nothing changed on our side in the last weeks.",
        ),
        Opening(
            Q,
            "Can we get a static outbound IP address?",
            "Hello,\n\na partner of ours only accepts connections from known addresses. "
            "Can project *{project}* get a **static outbound IP** in {region}?",
        ),
        Opening(
            PROB,
            "Packet loss between {region} and eu-central",
            "We see {percent} % packet loss between our instances in {region} and "
            "eu-central since yesterday:\n\n```\nmtr --report {ip}\n"
            "  7.|-- core-{region}.net     {percent}.0%   100  12.1  14.3\n```",
        ),
    ),
    questions=(
        "Thanks, {customer_first}. Could you send the **request id** of one failed request "
        "and the time it happened? Then we can follow it through our edge.",
        "Which resolvers still return the old address? The output of "
        "`dig www.{domain} @<resolver>` would help.",
        "Could you share the IKE proposal your side offers (encryption, hash, DH group)?",
    ),
    details=(
        "One of them: `{request_ref}` at {hour}:{minute:02d} UTC.",
        "Mostly 8.8.8.8; 1.1.1.1 already has the new address.",
        "AES-256, SHA-256, DH group 14. Same as before.",
        "It happens again right now, about {percent} % of requests fail.",
    ),
    answers=(
        "One of the edge nodes in {region} had a stale backend list; we replaced it and the "
        "502s stopped at {hour}:{minute:02d} UTC. Please let us know if you still see any.",
        "The old record was cached by a resolver on our side. I flushed it; all resolvers "
        "return `{ip}` now.",
        "We rolled back a change to the default IKE proposals in {region}; the tunnel has "
        "been stable for an hour now.",
        "A static outbound address is available: enable **NAT gateway** for *{project}* "
        "under **Network → Gateways**. See https://docs.helpwire.example/network/nat",
    ),
    notes=(
        "Edge node edge-{region}-{digits} shows stale upstreams since the last deploy; "
        "paged the network on-call.",
        "Same symptom as two other tickets from {region} today; probably one root cause.",
        "Checked with the network team: maintenance on the {region} backbone tonight.",
    ),
    tags=("network", "dns", "vpn", "load-balancer", "outage"),
    location_path="/network/load-balancers",
)

ACCOUNTS = Family(
    openings=(
        Opening(
            INC,
            'Cannot sign in: "invalid code" from the authenticator app',
            "Since this morning I cannot sign in: every code from my authenticator app is "
            "refused with *invalid code*. My phone's clock is set automatically.\n\n"
            "User: `{customer_email}`",
        ),
        Opening(
            Q,
            "Please add {colleague} to {project}",
            "Hi,\n\nplease give my colleague **{colleague}** access to project *{project}* "
            "with the same rights as mine. They already have a user.",
        ),
        Opening(
            BUG,
            "SSO login loops back to the sign-in page",
            "After signing in through our identity provider we land on the sign-in page "
            "again, in a loop. It started after we rotated the SAML certificate.\n\n"
            "Browser console:\n\n```\nSAMLResponse rejected: signature invalid\n```",
        ),
        Opening(
            TASK,
            "Remove access for a former employee",
            "Please remove all access of **{colleague}** from the {company} account today; "
            "they left the company.",
        ),
        Opening(
            Q,
            "Who can see our tickets?",
            "Hello,\n\ncan everyone in our account see every ticket, or only the people of "
            "the same project? We would like tickets about *{project}* to stay within that "
            "team.",
        ),
    ),
    questions=(
        "Could you confirm the e-mail address of the user, and whether you still have your "
        "recovery codes?",
        "Did the new certificate get uploaded to the **SSO settings** as well, or only to "
        "your identity provider?",
        "Which role should {colleague} have: *member* or *admin* of the project?",
    ),
    details=(
        "Yes, it is `{customer_email}`. I do not have the recovery codes anymore.",
        "Only to the identity provider, I think. Where do I upload it on your side?",
        "Member is enough.",
    ),
    answers=(
        "I reset the second factor for `{customer_email}`; you will be asked to set it up "
        "again at the next sign-in.",
        "Upload the new certificate under **Settings → Single sign-on**; the loop ends as "
        "soon as both sides use the same certificate.",
        "{colleague} is now a member of *{project}*.",
        "Tickets marked for *project users* are seen only by members of their projects; "
        "you can choose that when you file a ticket.",
    ),
    notes=(
        "Verified the requester by a call to the number on file before resetting 2FA.",
        "Audit log shows the last successful sign-in three days ago, from the usual network.",
        "Access removal confirmed by the account owner in writing.",
    ),
    tags=("login", "2fa", "sso", "access"),
    location_path="/settings/security",
)

API = Family(
    openings=(
        Opening(
            BUG,
            "POST {endpoint} returns 500 for payloads over 1 MB",
            "Our integration gets `500 Internal Server Error` from `POST {endpoint}` as soon "
            "as the JSON body is larger than about 1 MB:\n\n"
            "```http\nPOST {endpoint} HTTP/1.1\nContent-Length: 1048977\n\nHTTP/1.1 500\n"
            "x-request-id: {request_ref}\n```\n\nSmaller payloads work fine.",
        ),
        Opening(
            Q,
            "What are the rate limits of the {sdk} SDK?",
            "Hello,\n\nwe hit `429 Too Many Requests` with the {sdk} SDK (version "
            "{version}) during our nightly import. What are the limits per token, and does "
            "the SDK retry on its own?",
        ),
        Opening(
            INC,
            "Webhooks to our endpoint stopped arriving",
            "Since {day} no webhooks arrive at `https://hooks.{domain}/helpwire`. Our "
            "endpoint is up and answers `200` to a manual test. Did you disable it?",
        ),
        Opening(
            BUG,
            "{sdk} SDK {version}: timeout is ignored",
            "Setting `timeout=5` on the client has no effect; requests hang for minutes:\n\n"
            "```python\nclient = Client(token=TOKEN, timeout=5)\n"
            'client.get("{endpoint}")  # hangs\n```',
        ),
        Opening(
            IDEA,
            "Cursor pagination for {endpoint}",
            "Offset pagination on `{endpoint}` gets slow for us past page 500. Could it "
            "offer a cursor, like the other list endpoints?",
        ),
    ),
    questions=(
        "Could you send the request id of a failing call? We keep request logs for 14 days.",
        "Which token do you use for the import (its prefix is enough), and how many requests "
        "does the import send per second?",
        "Does your endpoint answer within 10 seconds? After repeated timeouts a webhook is paused.",
    ),
    details=(
        "Request id: `{request_ref}`.",
        "Prefix `hw_{digits}`, about {count} requests per second at peak.",
        "It can take up to 15 seconds when our database is busy, yes.",
    ),
    answers=(
        "Thanks for the report: payloads over 1 MB hit a limit in one proxy that answered "
        "500 instead of 413. It is fixed, and large payloads now get a clear `413`.",
        "The limit is 50 requests per second per token; the {sdk} SDK retries `429` "
        "answers after the `Retry-After` delay from version 4.2 on.",
        "Your webhook was paused after repeated timeouts. I resumed it; please answer "
        "within 10 s and process the event afterwards.",
        "Fixed in {sdk} SDK {version}.1: the timeout now applies to the whole request.",
    ),
    notes=(
        "Reproduced with a 1.1 MB payload on staging; proxy buffer limit. Filed API-{digits}.",
        "Token belongs to their CI user; traffic pattern is a burst every night at 02:00.",
        "Webhook auto-paused on {day} after 50 consecutive timeouts.",
    ),
    tags=("api", "sdk", "webhooks", "rate-limit"),
    location_path="/developers/api",
)

PERFORMANCE = Family(
    openings=(
        Opening(
            INC,
            "Dashboard of {project} takes 20 seconds to load",
            "The dashboard of project *{project}* takes about **20 seconds** to load since "
            "yesterday; it used to be instant. Other projects are fine.",
        ),
        Opening(
            PROB,
            "p95 latency doubled after the last maintenance",
            "Since the maintenance on {day} our p95 latency in {region} went from "
            "{ms} ms to about {ms2} ms:\n\n- same traffic\n- same instance sizes\n"
            "- no deploy on our side\n\nAny idea what changed?",
        ),
        Opening(
            INC,
            "Reports time out for large date ranges",
            "Exporting the usage report for more than 30 days fails with a timeout:\n\n"
            "```\nGET /reports/usage?from=...&to=...\n504 Gateway Timeout after 60 s\n```",
        ),
        Opening(
            Q,
            "Which instance size do we need for {count} users?",
            "We expect about **{count} concurrent users** on *{project}* next month. Which "
            "instance size would you recommend, and can we resize without downtime?",
        ),
    ),
    questions=(
        "Could you tell us the time range and the browser you used? A HAR file of the slow "
        "page load would help a lot.",
        "Did the latency change for every endpoint, or only for some? A graph would help.",
        "Roughly how many rows does the report cover for the slow range?",
    ),
    details=(
        "Chrome, between {hour}:00 and {hour}:30 UTC. I attached nothing yet, will do.",
        "Only for the endpoints that write; reads are as fast as before.",
        "About {count}000 rows for 90 days.",
    ),
    answers=(
        "A missing index on one of *{project}*'s tables made the dashboard query scan the "
        "whole table. We added it; the dashboard loads in under a second again.",
        "The maintenance moved your volumes to a new storage pool with a lower burst "
        "limit. We moved them back; p95 is back at about {ms} ms.",
        "Long reports are now generated in the background and sent by e-mail when ready.",
        "For {count} users we recommend the *large* size; resizing restarts each instance "
        "once, one at a time, without downtime behind a load balancer.",
    ),
    notes=(
        "Query plan shows a sequential scan on events for {project}; DBA on it.",
        "Storage pool migration on {day} matches the start of the regression.",
        "Checked metrics: CPU steal at 30 % on the host, moving the instance.",
    ),
    tags=("performance", "latency", "timeout"),
    location_path="/projects/dashboard",
)

GENERAL = Family(
    openings=(
        Opening(
            Q,
            "Question about {project}",
            "Hello,\n\nwe have a question about project *{project}*: where can we find the "
            "audit log of changes made by our team members?\n\nThanks,\n{customer_first}",
        ),
        Opening(
            PROB,
            "Something is not working as expected",
            "Since {day} the *{project}* page shows an error now and then:\n\n"
            "> Something went wrong. Please try again.\n\nReloading helps for a while.",
        ),
        Opening(
            IDEA,
            "Dark mode, please",
            "Many of our team work late; a **dark mode** would be very welcome.",
        ),
    ),
    questions=(
        "Could you tell us when it happened last and which browser you used?",
        "Could you send a screenshot of the page?",
    ),
    details=(
        "Last time at {hour}:{minute:02d} UTC, in Firefox.",
        "I will send one the next time it happens; it happened twice today.",
    ),
    answers=(
        "The audit log is under **Settings → Audit log**; it keeps 180 days of changes.",
        "We found and fixed an error in the page that showed this message; thanks for "
        "reporting it!",
        "Thanks for the suggestion, I passed it on to our product team.",
    ),
    notes=(
        "Could not reproduce on staging; asked the customer for more details.",
        "Feature request logged for the product team.",
    ),
    tags=("question", "feedback"),
    location_path="/dashboard",
)

FAMILIES: dict[str, Family] = {
    "billing": BILLING,
    "network": NETWORK,
    "accounts": ACCOUNTS,
    "api": API,
    "performance": PERFORMANCE,
    "general": GENERAL,
}


def family_for(topic_key: str | None) -> Family:
    """The texts for a topic: the demo's own topic keys, or words in an existing topic's key
    (``billing-eu`` reads as billing); anything else gets general texts."""
    if topic_key is None:
        return GENERAL
    for name, family in FAMILIES.items():
        if name in topic_key:
            return family
    return GENERAL


# A first answer often starts with one of these before the question or the answer itself.
ACKNOWLEDGEMENTS = (
    "Hi {customer_first},\n\nthanks for contacting us. ",
    "Hello {customer_first},\n\n",
    "Hi {customer_first}, thanks for the details. ",
    "",
)

SIGNATURES = (
    "\n\nBest regards,\n{agent_first}",
    "\n\n— {agent_first}, support team",
    "\n\nCheers,\n{agent_first}",
    "",
)

# The customer after support asked or answered.
NUDGES = (
    "Any news on this? It is still happening.",
    "Thanks for looking into it. Let me know if you need anything else from us.",
    "Sorry, one more thing: it also affects our colleagues in *{project}*.",
)

THANKS = (
    "That fixed it, thank you!",
    "Works again. Thanks a lot for the quick help.",
    "Confirmed, all good on our side now.",
    "Thanks, {agent_first}!",
)

STILL_BROKEN = (
    "Unfortunately it is back since this morning, same symptoms as before.",
    "It worked for a day, now we see the same problem again.",
)

HOLD_NOTES = (
    "Waiting for the engineering team; they will look at it in the next sprint.",
    "On hold until the vendor answers our case {request_ref}.",
    "Parked until the maintenance window on {day}.",
)

HOLD_REPLIES = (
    "We need our engineering team for this one; I will update you as soon as they have "
    "looked at it.",
    "This depends on a fix by one of our vendors. I put the ticket on hold and will come "
    "back to you when they answer.",
)

DUPLICATE_CLOSE = "Closing this one as a duplicate; we continue in your other ticket."

GOOD_RATINGS = (
    "Quick and friendly, thanks!",
    "Solved within the hour, great support.",
    "Clear explanation, exactly what we needed.",
    "{agent_first} was very helpful.",
)

BAD_RATINGS = (
    "It took far too long to get an answer.",
    "The problem came back twice before it was fixed.",
    "I had to explain the same thing several times.",
)

THUMBS_DOWN = (
    "This did not answer my question.",
    "The link in the answer does not work.",
)

ESCALATION_NOTES = (
    "Escalated: several of the customer's users are affected and it is getting worse.",
    "Escalating, customer has a contractual SLA on this project.",
)

# Support keeps the customer informed while it works on the ticket.
PROGRESS = (
    "We are looking into it and will update you as soon as we know more.",
    "Thanks, that helps. Our engineers are on it now.",
    "I can reproduce it on our side; working on a fix.",
)

DUPLICATE_NOTE = "Same request as an earlier ticket of this customer; answered there."
