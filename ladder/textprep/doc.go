// Package textprep separates a buyer's new words from the text an email or
// CRM-sourced message carries along with them, so that topic signals read
// only what the buyer wrote now.
//
// Signals are phrase matches. Run over a whole email they decide wrongly: our
// own rep's quoted "pricing, MSA and SOC 2 attached" reads as a legal question,
// a signature title "Contracts Manager" as a contracts topic, a confidentiality
// footer as a confidentiality request. Prepare cuts, line by line:
//
//   - banners at the top: "[External]", "CAUTION: This email originated from
//     outside ..." and their Spanish, German, French, Portuguese and Italian
//     forms;
//   - quoted replies: "> " lines, reply headers ("On … wrote:", "El … escribió:",
//     "Am … schrieb …:", "Le … a écrit :", "Em … escreveu:", "Il giorno … ha
//     scritto:") with the thread below them, Outlook header blocks
//     ("From:/Sent:/To:/Subject:" and the five other languages) and
//     "-----Original Message-----" separators;
//   - forwarded messages ("---------- Forwarded message ---------", "Begin
//     forwarded message:", "Message transféré", "Weitergeleitete Nachricht",
//     "Mensaje reenviado", "Messaggio inoltrato", "Mensagem encaminhada");
//   - signatures: the "-- " delimiter, mobile footers ("Sent from my iPhone",
//     "Von meinem iPhone gesendet", …), a sign-off ("Best,", "Kind regards",
//     "Saludos", "Mit freundlichen Grüßen", "Cordialement", "Atenciosamente",
//     "Cordiali saluti", …) followed by a name and short title, company, phone
//     or address lines, and a trailing name-plus-contact block;
//   - disclaimers: "CONFIDENTIALITY NOTICE" and the usual "This email and any
//     attachments are confidential … intended recipient …" paragraphs in the
//     six languages, and "consider the environment before printing" lines.
//
// Interleaved replies keep the buyer's unquoted lines between the "> " blocks.
// A forward with a note on top keeps the note; a pure forward (nothing above
// the forward marker or header block) keeps the forwarded body, minus its
// headers, because that body is what the buyer chose to send us. A sign-off on
// the first line is content ("Thanks, Ana" alone stays whole), and a bare
// "Thanks!" at the end stays too: only a sign-off followed by name lines, or a
// closing formula such as "Kind regards", is a signature.
//
// Prepare is pure, does no I/O, and is cheap enough to run on every message:
// text with no markers is returned trimmed without copying. The caller keeps
// the whole text for the bundle; Prepared records what was cut (kind and byte
// range) so a trace can say in words what was ignored.
package textprep
