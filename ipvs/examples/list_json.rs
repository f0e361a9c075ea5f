//! Prints every virtual service with its real servers as JSON:
//!
//!     cargo run -p ipvs --example list_json
//!
//! (as root, or with CAP_NET_ADMIN).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut ipvs = ipvs::Client::connect()?;
    let mut listing = Vec::new();
    for service in ipvs.services()? {
        let destinations = ipvs.destinations(&service.key)?;
        listing.push(serde_json::json!({ "service": service, "destinations": destinations }));
    }
    println!("{}", serde_json::to_string_pretty(&listing)?);
    Ok(())
}
