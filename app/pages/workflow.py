"""Labels of the outage workflow (planner page, ``outage-workflow.js``) and of the notices
section (customer service page, ``notices.js``), in the request's language; merged into
:func:`app.pages.js_labels`. Keys are prefixed so they never clash with the pages' own."""

from __future__ import annotations

from flask_babel import gettext as _


def workflow_labels() -> dict[str, str]:
    return {
        # outage statuses (planning.outages.workflow.STATUSES)
        "outage_planned": _("planned"), "outage_reviewed": _("reviewed"), "outage_approved": _("approved"),
        "outage_published": _("published"), "outage_done": _("executed"), "outage_cancelled": _("cancelled"),
        # the steps, as buttons and in the history
        "wf_review": _("Mark reviewed"), "wf_reopen": _("Send back"), "wf_approve": _("Approve"),
        "wf_publish": _("Publish and queue notices"), "wf_cancel": _("Cancel outage"), "wf_execute": _("Record as executed"),
        "wfh_review": _("Reviewed"), "wfh_reopen": _("Sent back"), "wfh_approve": _("Approved"),
        "wfh_publish": _("Published"), "wfh_cancel": _("Cancelled"), "wfh_execute": _("Executed"),
        "wf_note": _("Note (reason for sending back or cancelling)"), "wf_history": _("Status history"),
        "wf_refresh": _("Refresh"), "wf_refresh_hint": _("Read the outage again (another user may have changed it)"),
        "wf_by": _("by"), "wf_no_history": _("No step taken yet"),
        "wf_deadline": _("7-day notice due by"),
        "wf_short": _("The notice deadline has passed: this outage can no longer be approved or published; re-plan it or cancel it."),
        "wf_queued": _("notices queued"), "wf_cancelled_msgs": _("pending messages cancelled"),
        "wf_cancellations": _("cancellation messages to customers already notified"),
        "wfe_stale_version": _("Someone else changed this outage since you opened it; it has been reloaded."),
        "wfe_notice_too_late": _("Too late for the 7-day notice: the deadline has passed."),
        "wfe_transition_not_allowed": _("This step is not possible from the outage's current status."),
        "wfe_forbidden": _("Your role may not take this step."),
        # the notices section
        "ng_planned": _("Planned outage"), "ng_fault": _("Fault"), "ng_crew": _("Crew route link"),
        "nk_notice": _("Notice (7 days ahead)"), "nk_sms": _("SMS (10 minutes ahead)"), "nk_cancel": _("Cancellation"),
        "nk_fault": _("Fault message"), "nk_crew_link": _("Crew route link"),
        "ns_pending": _("Pending"), "ns_sending": _("Sending"), "ns_sent": _("Sent"), "ns_failed": _("Failed"),
        "ns_cancelled": _("Cancelled"),
        "nt_customer": _("Customer"), "nt_kind": _("Kind"), "nt_event": _("Outage / fault"), "nt_due": _("Due"),
        "nt_status": _("Status"), "nt_sent_at": _("Sent at"), "nt_message": _("Message"),
        "nt_page": _("{first}–{last} of {total}"), "nt_none": _("No messages match"),
        "nt_total": _("Total"), "nt_sent_result": _("Sent: {sent}, failed: {failed}"),
        "nc_outage": _("Outage"), "nc_start": _("Start"), "nc_deadline": _("Notice deadline"), "nc_published": _("Published"),
        "nc_customers": _("Customers"), "nc_on_time": _("On time"), "nc_late": _("Late"), "nc_pending": _("Not sent yet"),
        "nc_verdict": _("Verdict"), "nc_reason": _("Why"), "nc_error": _("Error"), "nc_none": _("No published outage"),
        "nc_all_on_time": _("Every customer was notified on time"),
        "vd_late": _("Late"), "vd_pending": _("Not sent yet"), "vd_on_time": _("On time"),
        "rs_no_notice": _("No notice queued"), "rs_published_late": _("Published after the deadline"),
        "rs_sent_late": _("Sent after the deadline"), "rs_not_sent": _("Not sent by the deadline"),
        "rs_send_failed": _("Sending failed"), "rs_message_cancelled": _("Notice cancelled"),
    }
