# Candidates' CVs on their profile.
M = [
("cv-title", "CV", "Lebenslauf", "简历"),
("cv-lead", "For job fairs: employers you ask for an interview (and those who ask you), and the organisers of your events, can read it.", "Für Jobmessen: Arbeitgeber, bei denen Sie ein Gespräch anfragen (oder die Sie anfragen), und das Team Ihrer Veranstaltungen können ihn lesen.", "用于招聘会：您申请面谈的用人单位（以及向您申请面谈的用人单位）和您所参加活动的主办方可以查看。"),
("cv-shared", "Also show it to everyone taking part in my events", "Auch allen zeigen, die an meinen Veranstaltungen teilnehmen", "同时向我所参加活动的所有参与者展示"),
("cv-save-sharing", "Save", "Speichern", "保存"),
("cv-delete", "Remove my CV", "Lebenslauf entfernen", "删除我的简历"),
("cv-delete-confirm", "Remove your CV? Nobody can read it afterwards.", "Lebenslauf entfernen? Danach kann ihn niemand mehr lesen.", "删除简历？删除后任何人都无法再查看。"),
("cv-choose", "Your CV (PDF)", "Ihr Lebenslauf (PDF)", "您的简历（PDF）"),
("cv-replace", "Replace it with another PDF", "Durch ein anderes PDF ersetzen", "用另一份 PDF 替换"),
("cv-hint", "One PDF file, at most { $max }.", "Eine PDF-Datei, höchstens { $max }.", "一个 PDF 文件，不超过 { $max }。"),
("cv-upload", "Upload", "Hochladen", "上传"),
("cv-download", "CV (PDF)", "Lebenslauf (PDF)", "简历（PDF）"),
("cv-of", "CV of { $name } (PDF)", "Lebenslauf von { $name } (PDF)", "{ $name }的简历（PDF）"),
("cv-missing", "Please choose a PDF file.", "Bitte wählen Sie eine PDF-Datei.", "请选择一个 PDF 文件。"),
("cv-not-pdf", "This file is not a PDF. Please save your CV as PDF and upload that.", "Diese Datei ist kein PDF. Bitte speichern Sie Ihren Lebenslauf als PDF und laden Sie dieses hoch.", "该文件不是 PDF。请将简历另存为 PDF 后再上传。"),
("cv-too-large", "The file is larger than 5 MB. Please make the PDF smaller (fewer or smaller pictures).", "Die Datei ist größer als 5 MB. Bitte verkleinern Sie das PDF (weniger oder kleinere Bilder).", "文件超过 5 MB。请压缩 PDF（减少图片或缩小图片）。"),
]
