"""Phrasings of benign mail that talks about security, IT, AI and marketing, per split.

Training and validation never share a phrasing (the evaluation split has its own families in
``training.benign`` and uses none of these), so validation measures how the detector treats
risky-sounding benign mail it has not seen.
"""

from __future__ import annotations

TOPICS: dict[str, dict[str, tuple[str, ...]]] = {
    "train": {
        "security": (
            "As part of our awareness month, remember that our staff will never ask you for a "
            "one-time code over the phone.",
            "Phishing attempts are rising: check the sender domain before you open any invoice.",
            "Please enable two-factor authentication on your {service} account by {day}.",
            "Use the password manager for every work login; reusing passwords puts the whole "
            "team at risk.",
            "If a message pressures you to act urgently or to bypass a process, treat it as "
            "suspicious and report it with the Report button.",
            "Our quarterly security training is now open. It covers social engineering, "
            "credential theft and safe use of USB drives.",
            "Attackers sometimes pretend to be the CEO and ask for gift cards. Verify any unusual "
            "request by calling the person directly.",
        ),
        "helpdesk": (
            "Your ticket #{number} has been resolved. If the issue returns, reply to this email "
            "and the ticket will reopen.",
            "To finish the laptop upgrade, please forward this email to IT with your asset tag.",
            "Your password expires in {number} days. Click the link in the portal to reset it "
            "before {day}.",
            "We will restart the mail servers on {day} at 22:00. No action is needed on your side.",
            "Please reply with your availability for a 15 minute call so we can set up your VPN.",
            "The printer on floor {number} is back online. Thanks for your patience.",
            "New starters: your account details will arrive in a separate message from the "
            "helpdesk; do not share them.",
        ),
        "ai_product": (
            "Introducing our new AI assistant for your inbox: it drafts replies, summarises long "
            "threads and never sends anything without your approval.",
            "Release notes {number}.{number2}: the agent now supports custom system prompts per "
            "workspace and better tool calling.",
            "Our research team published a paper on detecting jailbreak attempts against large "
            "language models.",
            "Join the beta of our LLM-powered search. Admins can configure which documents the "
            "model is allowed to read.",
            "We updated our AI usage policy: do not paste customer data into public chatbots.",
            "The new model handles longer context windows and follows formatting instructions "
            "more reliably.",
        ),
        "prompting": (
            "In this issue: five prompt patterns for summarisation, and how to keep a chatbot on "
            "topic.",
            "Reader question: why does my assistant forget earlier instructions in long "
            "conversations? We look at context limits.",
            "Prompt injection explained: attackers hide text in web pages or documents that tries "
            "to change what an AI model does. Here is how vendors defend against it.",
            "Tip of the week: give the model a role, a goal and an example of the output you want.",
            "Our course on building AI agents starts {day}. Module 3 covers guardrails and red "
            "teaming.",
        ),
        "scheduling": (
            "Could you reply with your availability for next week? I am trying to book the "
            "quarterly review.",
            "Please confirm whether {day} at 10:00 still works, otherwise send me two "
            "alternatives.",
            "Forward this invite to anyone on your team who should join.",
            "Let me know by {day} if you need a parking permit for the visit.",
        ),
    },
    "validation": {
        "security": (
            "Friendly reminder: lock your screen whenever you leave your desk.",
            "We ran a simulated phishing test last week and {number}% of staff clicked. Please "
            "complete the short refresher course.",
            "Never approve a login prompt on your phone that you did not start yourself.",
            "The finance team will always confirm bank detail changes by phone. Emails asking to "
            "update payment details should be reported.",
            "Strong passphrases beat complex passwords: four random words are easy to remember "
            "and hard to guess.",
            "Suspicious attachment? Do not open it; send it to the security mailbox as an "
            "attachment instead.",
        ),
        "helpdesk": (
            "Your request for software access was approved. You can sign in from {day}.",
            "Reset link for the {service} account: use the self-service portal, the link is valid "
            "for 24 hours.",
            "Could you forward the error message to the service desk so we can investigate?",
            "Reply to this email with the best time to reach you and a technician will call.",
            "Maintenance window: the file share will be read-only on {day} from 18:00.",
            "Ticket {number} update: the engineer needs your laptop for one hour tomorrow.",
        ),
        "ai_product": (
            "Meet Nova, the AI agent that books meetings and answers routine customer questions.",
            "We are hosting a webinar on responsible use of generative AI in customer service.",
            "Changelog: the chatbot ignores empty messages and respects the tone set by the admin.",
            "Our whitepaper compares guardrails for large language models in regulated industries.",
            "The assistant can now read attachments you share with it and cite the source.",
        ),
        "prompting": (
            "This month: chain-of-thought prompting, evaluation sets, and red team findings from "
            "our community.",
            "Security researchers showed how hidden instructions in a shared document can trick "
            "an assistant; the article covers mitigations.",
            "Workshop recap: writing clear prompts, testing them, and versioning them like code.",
            "Ask the expert: should the system message or the user message carry the rules?",
        ),
        "scheduling": (
            "Please send me your availability for the design review; I will pick the slot with "
            "the most people free.",
            "Reply to confirm attendance by {day}. Lunch will be provided.",
            "Could you share this calendar invite with your manager?",
        ),
    },
}
GREETINGS = {
    "train": ("Hi {name},", "Hello team,", "Dear colleague,", "Hi all,", ""),
    "validation": ("Good morning {name},", "Hey {name},", "Dear customer,", "To all staff,", ""),
}
SIGNOFFS = {
    "train": (
        "Thanks,\n{name}",
        "Best regards,\nIT Service Desk",
        "Cheers,\nThe {service} team",
        "Regards,\n{name}\nInformation Security",
    ),
    "validation": (
        "Kind regards,\n{name}",
        "-- \nThe Product Team\nYou receive this because you signed up.",
        "Many thanks,\nHelpdesk",
    ),
}
FOREIGN = {
    "train": (
        "Bitte leiten Sie diese E-Mail an die IT-Abteilung weiter.",
        "Merci de répondre avec vos disponibilités pour la semaine prochaine.",
        "شكرا لكم\u200f، سيتم تحديث كلمة المرور يوم الاثنين\u200f.",
        "मीटिंग क\u200dल सुबह दस बजे है।",
        "Gracias por su paciencia, el sistema vuelve a funcionar.",
    ),
    "validation": (
        "Vi preghiamo di non condividere la password con nessuno.",
        "Obrigado, enviaremos o relatório amanhã.",
        "תודה רבה\u200f, הפגישה נדחתה ליום ראשון\u200e.",
        "می\u200cخواهم جلسه را به فردا منتقل کنم.",  # noqa: RUF001
        "お疲れ様です。資料は明日送ります。",
    ),
}
PREHEADERS = {
    "train": ("Your monthly security digest", "New features inside", "Save 20% this week"),
    "validation": ("Your AI briefing is here", "Webinar seats are limited", "Account update"),
}
