fn main() {
    println!("tapegrad");
}
