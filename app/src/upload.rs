//! Sending a file the reader chose to the JSON API from the browser, with the session's
//! anti-CSRF token: as the request body (an OCI layout's tar) or as the `file` part of a form
//! (an attached document). Server functions cannot carry files; this is their one door.

use crate::error::AppError;

/// How the chosen file travels.
pub enum UploadBody {
    /// As the whole body, with this content type.
    Raw(&'static str),
    /// As the `file` part of `multipart/form-data`, beside these text fields.
    Form(Vec<(&'static str, String)>),
}

/// Posts the file chosen in `<input type=file id=input_id>` to `url`; answers the response's
/// text, or the error the API gave (its `error` field).
pub async fn post_file(url: &str, input_id: &str, body: UploadBody) -> Result<String, AppError> {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast as _;
        let failed = |what: &str| AppError::BadRequest(what.to_owned());
        let csrf = crate::account::who_am_i().await?.csrf;
        let window = web_sys::window().ok_or_else(|| failed("no window"))?;
        let file = window
            .document()
            .and_then(|document| document.get_element_by_id(input_id))
            .and_then(|element| element.dyn_into::<web_sys::HtmlInputElement>().ok())
            .and_then(|input| input.files())
            .and_then(|files| files.get(0))
            .ok_or_else(|| failed("choose a file first"))?;
        let headers = web_sys::Headers::new().map_err(|_| failed("cannot make the request"))?;
        let _ = headers.set("x-csrf-token", &csrf);
        let init = web_sys::RequestInit::new();
        init.set_method("POST");
        match body {
            UploadBody::Raw(content_type) => {
                let _ = headers.set("content-type", content_type);
                init.set_body(&file);
            }
            UploadBody::Form(fields) => {
                // The browser writes the multipart boundary into the content type itself.
                let form = web_sys::FormData::new().map_err(|_| failed("cannot make the form"))?;
                form.append_with_blob_and_filename("file", &file, &file.name())
                    .map_err(|_| failed("cannot add the file to the form"))?;
                for (name, value) in fields {
                    form.append_with_str(name, &value).map_err(|_| failed("cannot fill the form"))?;
                }
                init.set_body(&form);
            }
        }
        init.set_headers(&headers);
        let answered = wasm_bindgen_futures::JsFuture::from(window.fetch_with_str_and_init(url, &init))
            .await
            .map_err(|_| failed("the upload failed: the server could not be reached"))?;
        let response: web_sys::Response = answered.dyn_into().map_err(|_| failed("no answer"))?;
        let text = wasm_bindgen_futures::JsFuture::from(response.text().map_err(|_| failed("no answer"))?)
            .await
            .ok()
            .and_then(|text| text.as_string())
            .unwrap_or_default();
        if !response.ok() {
            let message = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|body| body.get("error").and_then(|error| error.as_str()).map(str::to_owned))
                .unwrap_or_else(|| format!("the upload failed ({})", response.status()));
            return Err(AppError::BadRequest(message));
        }
        Ok(text)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (url, input_id, body);
        Err(AppError::BadRequest("uploading needs the page to be interactive".into()))
    }
}
