# Sourced by bench scripts. The real NAIP series (../shared/data/real/naip-nd-wetlands) cut to the columns the learned
# change model never trained on, every date on one common grid (the deliveries differ by a row and a few metres),
# bands named red, green, blue (colour interpretation) and nir (band description) as NAIP delivers them.
#   naip_held_out SOURCE_DIR OUT_DIR    fills the array NAIP_CUTS with one VRT per date, in date order
naip_held_out() {
  local src="$1" out="$2" f cut v
  mkdir -p "$out"
  NAIP_CUTS=()
  while IFS= read -r f; do
    cut="$out/$(basename "$f")"
    v="${cut%.tif}.vrt"
    gdalwarp -q -overwrite -te 488885 5205635 490565 5209240 -tr 5 5 -r near "$f" "$cut"
    gdal_translate -q -of VRT -colorinterp red,green,blue,undefined "$cut" "$v"
    sed -i '0,/band="4"[^>]*>/s//&\n    <Description>nir<\/Description>/' "$v"
    NAIP_CUTS+=("$v")
  done < <(ls "$src"/*.tif | sort)
}
