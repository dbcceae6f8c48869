//! One-page PDF CVs for the demo's candidates, written by hand: a PDF with one page of
//! Helvetica text is a few objects and a cross-reference table.

/// A PDF with `lines` on one A4 page, the first as a heading. Text outside printable ASCII
/// becomes `?` (the standard fonts have no Chinese).
pub fn pdf(lines: &[String]) -> Vec<u8> {
    let mut text = String::from("BT\n/F1 20 Tf\n56 770 Td\n");
    for (i, line) in lines.iter().enumerate() {
        if i == 1 {
            text.push_str("/F1 12 Tf\n0 -34 Td\n");
        } else if i > 1 {
            text.push_str("0 -18 Td\n");
        }
        text.push_str(&format!("({}) Tj\n", escape(line)));
    }
    text.push_str("ET\n");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] \
         /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>"
            .to_string(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_string(),
        format!("<< /Length {} >>\nstream\n{text}endstream", text.len()),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = vec![];
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

fn escape(line: &str) -> String {
    line.chars()
        .map(|c| match c {
            '(' | ')' | '\\' => format!("\\{c}"),
            ' '..='~' => c.to_string(),
            _ => "?".to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cross_reference_table_points_at_the_objects() {
        let pdf = pdf(&["Curriculum vitae".into(), "Wang Fang (a)".into()]);
        let text = String::from_utf8(pdf.clone()).unwrap();
        assert!(text.contains("(Wang Fang \\(a\\)) Tj"));
        let start: usize = text
            .rsplit("startxref\n")
            .next()
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(text[start..].starts_with("xref\n0 6\n"));
        for (n, entry) in text[start..].lines().skip(3).take(5).enumerate() {
            let at: usize = entry[..10].parse().unwrap();
            assert!(
                text[at..].starts_with(&format!("{} 0 obj", n + 1)),
                "{entry}"
            );
        }
    }
}
